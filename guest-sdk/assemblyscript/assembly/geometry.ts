// Value types of the WIT (wit/0.1.0/types.wit) with the Rust SDK's constructors:
// Color, Affine, Rect, Paint (solid colour, gradients, image) and the small enums.

import { Writer } from "./abi";

/** Which points are inside a self-intersecting path. */
export enum FillRule {
  NonZero = 0,
  EvenOdd = 1,
}

/** How stroke segments meet. */
export enum LineJoin {
  Miter = 0,
  Round = 1,
  Bevel = 2,
}

/** How open stroke ends look. */
export enum LineCap {
  Butt = 0,
  Round = 1,
  Square = 2,
}

/** How a group is combined with what is below it. */
export enum BlendMode {
  Normal = 0,
  Add = 1,
  Multiply = 2,
  Screen = 3,
}

/** Horizontal alignment of text relative to its anchor x. */
export enum TextAlign {
  Start = 0,
  Center = 1,
  End = 2,
}

/** How a shape is coloured: a `Color` (solid), a `LinearGradient`, a
 *  `RadialGradient` or an `ImageFill`. Anything that takes a `Paint` takes a `Color`. */
export abstract class Paint {
  /** Writes the `paint` variant (tag, payload). */
  abstract encode(out: Writer): void;

  /** A single colour (a `Color` already is a `Paint`). */
  static solid(color: Color): Paint {
    return color;
  }

  /** A single colour (same as `solid`). */
  static color(color: Color): Paint {
    return color;
  }

  /** A linear gradient from (x0, y0) to (x1, y1). */
  static linear(x0: f32, y0: f32, x1: f32, y1: f32, stops: Array<Stop>): Paint {
    return new LinearGradient(x0, y0, x1, y1, stops);
  }

  /** A radial gradient centred on (cx, cy) out to `radius`. */
  static radial(cx: f32, cy: f32, radius: f32, stops: Array<Stop>): Paint {
    return new RadialGradient(cx, cy, radius, stops);
  }

  /** An image asset as a paint: its pixel (0, 0) sits at the origin of `transform`. */
  static image(asset: string, transform: Affine, opacity: f32): Paint {
    return new ImageFill(asset, transform, opacity);
  }
}

/** A colour in sRGB with straight alpha; every channel in 0..=1. */
export class Color extends Paint {
  static readonly WHITE: Color = new Color(1.0, 1.0, 1.0, 1.0);
  static readonly BLACK: Color = new Color(0.0, 0.0, 0.0, 1.0);
  static readonly TRANSPARENT: Color = new Color(0.0, 0.0, 0.0, 0.0);

  constructor(
    public readonly r: f32,
    public readonly g: f32,
    public readonly b: f32,
    public readonly a: f32,
  ) {
    super();
  }

  /** Opaque colour from sRGB channels in 0..=1. */
  static rgb(r: f32, g: f32, b: f32): Color {
    return new Color(r, g, b, 1.0);
  }

  /** Colour from sRGB channels and straight alpha in 0..=1. */
  static rgba(r: f32, g: f32, b: f32, a: f32): Color {
    return new Color(r, g, b, a);
  }

  /** Opaque colour from `0xRRGGBB`. */
  static hex(rgb: u32): Color {
    return new Color(
      <f32>((rgb >> 16) & 0xff) / 255.0,
      <f32>((rgb >> 8) & 0xff) / 255.0,
      <f32>(rgb & 0xff) / 255.0,
      1.0,
    );
  }

  /** The same colour with alpha multiplied by `factor` (clamped to 0..=1). */
  fade(factor: f32): Color {
    return new Color(this.r, this.g, this.b, this.a * clamp01(factor));
  }

  encode(out: Writer): void {
    out.writeU8(0);
    this.encodeColor(out);
  }

  /** The `color` record alone (no paint tag). */
  encodeColor(out: Writer): void {
    out.writeF32(this.r);
    out.writeF32(this.g);
    out.writeF32(this.b);
    out.writeF32(this.a);
  }
}

/** A colour stop of a gradient; offsets run 0..=1 and must not decrease. */
export class Stop {
  constructor(
    public readonly offset: f32,
    public readonly color: Color,
  ) {}
}

function encodeStops(out: Writer, stops: Array<Stop>): void {
  out.writeU32(<u32>stops.length);
  for (let i = 0; i < stops.length; i++) {
    const s = unchecked(stops[i]);
    out.writeF32(s.offset);
    s.color.encodeColor(out);
  }
}

/** A linear gradient from (x0, y0) to (x1, y1). */
export class LinearGradient extends Paint {
  constructor(
    public readonly x0: f32,
    public readonly y0: f32,
    public readonly x1: f32,
    public readonly y1: f32,
    public readonly stops: Array<Stop>,
  ) {
    super();
  }

  encode(out: Writer): void {
    out.writeU8(1);
    out.writeF32(this.x0);
    out.writeF32(this.y0);
    out.writeF32(this.x1);
    out.writeF32(this.y1);
    encodeStops(out, this.stops);
  }
}

/** A radial gradient centred on (cx, cy) out to `radius`. */
export class RadialGradient extends Paint {
  constructor(
    public readonly cx: f32,
    public readonly cy: f32,
    public readonly radius: f32,
    public readonly stops: Array<Stop>,
  ) {
    super();
  }

  encode(out: Writer): void {
    out.writeU8(2);
    out.writeF32(this.cx);
    out.writeF32(this.cy);
    out.writeF32(this.radius);
    encodeStops(out, this.stops);
  }
}

/** An image asset used as a paint, placed by `transform`; it does not repeat. */
export class ImageFill extends Paint {
  constructor(
    public readonly asset: string,
    public readonly transform: Affine,
    public readonly opacity: f32,
  ) {
    super();
  }

  encode(out: Writer): void {
    out.writeU8(3);
    out.writeString(this.asset);
    this.transform.encode(out);
    out.writeF32(this.opacity);
  }
}

/** A point, as returned by `Affine.apply`. */
export class Point {
  constructor(
    public readonly x: f32,
    public readonly y: f32,
  ) {}
}

/** A 2D affine transform: (x, y) maps to (a·x + c·y + e, b·x + d·y + f). */
export class Affine {
  static readonly IDENTITY: Affine = new Affine(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);

  constructor(
    public readonly a: f32,
    public readonly b: f32,
    public readonly c: f32,
    public readonly d: f32,
    public readonly e: f32,
    public readonly f: f32,
  ) {}

  /** {1, 0, 0, 1, 0, 0}. */
  static identity(): Affine {
    return Affine.IDENTITY;
  }

  static translate(x: f32, y: f32): Affine {
    return new Affine(1.0, 0.0, 0.0, 1.0, x, y);
  }

  static scale(sx: f32, sy: f32): Affine {
    return new Affine(sx, 0.0, 0.0, sy, 0.0, 0.0);
  }

  /** Rotation by `radians`, clockwise on screen (y grows down). */
  static rotate(radians: f32): Affine {
    const s = Mathf.sin(radians);
    const c = Mathf.cos(radians);
    return new Affine(c, s, -s, c, 0.0, 0.0);
  }

  /** `this` applied first, then `next`. */
  then(next: Affine): Affine {
    return new Affine(
      next.a * this.a + next.c * this.b,
      next.b * this.a + next.d * this.b,
      next.a * this.c + next.c * this.d,
      next.b * this.c + next.d * this.d,
      next.a * this.e + next.c * this.f + next.e,
      next.b * this.e + next.d * this.f + next.f,
    );
  }

  /** Maps a point. */
  apply(x: f32, y: f32): Point {
    return new Point(this.a * x + this.c * y + this.e, this.b * x + this.d * y + this.f);
  }

  encode(out: Writer): void {
    out.writeF32(this.a);
    out.writeF32(this.b);
    out.writeF32(this.c);
    out.writeF32(this.d);
    out.writeF32(this.e);
    out.writeF32(this.f);
  }
}

/** An axis-aligned rectangle: top-left corner and size in pixels. */
export class Rect {
  constructor(
    public readonly x: f32,
    public readonly y: f32,
    public readonly width: f32,
    public readonly height: f32,
  ) {}

  encode(out: Writer): void {
    out.writeF32(this.x);
    out.writeF32(this.y);
    out.writeF32(this.width);
    out.writeF32(this.height);
  }
}

/** `v` clamped to 0..=1, NaN passing through (as Rust's `f32::clamp`). */
export function clamp01(v: f32): f32 {
  return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}
