// Path and PathBuilder: the flat `path` record of the WIT (verbs + points).

import { Writer } from "./abi";
import { Rect } from "./geometry";

const MOVE: u8 = 0;
const LINE: u8 = 1;
const QUAD: u8 = 2;
const CUBIC: u8 = 3;
const CLOSE: u8 = 4;

/** Control-point distance for approximating a quarter circle with a cubic. */
const KAPPA: f32 = 0.5522848;

/** A path: one verb byte per segment (0 move-to, 1 line-to, 2 quad-to, 3 cubic-to,
 *  4 close) and the x, y pairs they consume, in order. Must start with a move-to. */
export class Path {
  constructor(
    public verbs: Array<u8> = [],
    public points: Array<f32> = [],
  ) {}

  /** A closed rectangle. */
  static rect(r: Rect): Path {
    return new PathBuilder().rect(r).build();
  }

  /** A closed rectangle with corners rounded by `radius` (clamped to half the shorter side). */
  static roundedRect(r: Rect, radius: f32): Path {
    return new PathBuilder().roundedRect(r, radius).build();
  }

  /** A closed circle. */
  static circle(cx: f32, cy: f32, r: f32): Path {
    return new PathBuilder().circle(cx, cy, r).build();
  }

  /** A closed ellipse. */
  static ellipse(cx: f32, cy: f32, rx: f32, ry: f32): Path {
    return new PathBuilder().ellipse(cx, cy, rx, ry).build();
  }

  encode(out: Writer): void {
    out.writeU8List(this.verbs);
    out.writeF32List(this.points);
  }
}

/** Builds a path from segments and shapes; every method returns the builder.
 *
 *  ```ts
 *  const tri = new PathBuilder().moveTo(0, 0).lineTo(100, 0).lineTo(50, 80).close().build();
 *  ```
 */
export class PathBuilder {
  private verbs: Array<u8> = [];
  private points: Array<f32> = [];

  moveTo(x: f32, y: f32): PathBuilder {
    this.verbs.push(MOVE);
    this.points.push(x);
    this.points.push(y);
    return this;
  }

  lineTo(x: f32, y: f32): PathBuilder {
    this.verbs.push(LINE);
    this.points.push(x);
    this.points.push(y);
    return this;
  }

  quadTo(cx: f32, cy: f32, x: f32, y: f32): PathBuilder {
    this.verbs.push(QUAD);
    this.points.push(cx);
    this.points.push(cy);
    this.points.push(x);
    this.points.push(y);
    return this;
  }

  cubicTo(c1x: f32, c1y: f32, c2x: f32, c2y: f32, x: f32, y: f32): PathBuilder {
    this.verbs.push(CUBIC);
    this.points.push(c1x);
    this.points.push(c1y);
    this.points.push(c2x);
    this.points.push(c2y);
    this.points.push(x);
    this.points.push(y);
    return this;
  }

  close(): PathBuilder {
    this.verbs.push(CLOSE);
    return this;
  }

  /** Adds a closed rectangle. */
  rect(r: Rect): PathBuilder {
    return this.moveTo(r.x, r.y)
      .lineTo(r.x + r.width, r.y)
      .lineTo(r.x + r.width, r.y + r.height)
      .lineTo(r.x, r.y + r.height)
      .close();
  }

  /** Adds a closed rectangle with corners rounded by `radius` (clamped to half the
   *  shorter side). */
  roundedRect(r: Rect, radius: f32): PathBuilder {
    const rad = fmin(fmin(fmax(radius, 0.0), Mathf.abs(r.width) / 2.0), Mathf.abs(r.height) / 2.0);
    if (rad <= 0.0) return this.rect(r);
    const k = rad * (1.0 - KAPPA);
    const x0 = r.x;
    const y0 = r.y;
    const x1 = r.x + r.width;
    const y1 = r.y + r.height;
    return this.moveTo(x0 + rad, y0)
      .lineTo(x1 - rad, y0)
      .cubicTo(x1 - k, y0, x1, y0 + k, x1, y0 + rad)
      .lineTo(x1, y1 - rad)
      .cubicTo(x1, y1 - k, x1 - k, y1, x1 - rad, y1)
      .lineTo(x0 + rad, y1)
      .cubicTo(x0 + k, y1, x0, y1 - k, x0, y1 - rad)
      .lineTo(x0, y0 + rad)
      .cubicTo(x0, y0 + k, x0 + k, y0, x0 + rad, y0)
      .close();
  }

  /** Adds a closed ellipse centred on (cx, cy). */
  ellipse(cx: f32, cy: f32, rx: f32, ry: f32): PathBuilder {
    const kx = rx * KAPPA;
    const ky = ry * KAPPA;
    return this.moveTo(cx + rx, cy)
      .cubicTo(cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry)
      .cubicTo(cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy)
      .cubicTo(cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry)
      .cubicTo(cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy)
      .close();
  }

  /** Adds a closed circle. */
  circle(cx: f32, cy: f32, r: f32): PathBuilder {
    return this.ellipse(cx, cy, r, r);
  }

  /** Hands over the path built so far and leaves the builder empty. */
  build(): Path {
    const path = new Path(this.verbs, this.points);
    this.verbs = [];
    this.points = [];
    return path;
  }
}

/** Rust's `f32::max`: if one side is NaN, the other. */
export function fmax(a: f32, b: f32): f32 {
  if (isNaN(a)) return b;
  if (isNaN(b)) return a;
  return a > b ? a : b;
}

/** Rust's `f32::min`: if one side is NaN, the other. */
export function fmin(a: f32, b: f32): f32 {
  if (isNaN(a)) return b;
  if (isNaN(b)) return a;
  return a < b ? a : b;
}
