// Canvas: collects the draw ops of one frame, encoded straight into the ABI's draw
// list ("SRDL", version 1, op count, ops). Groups left open are closed at the end.

import { Writer } from "./abi";
import { Affine, BlendMode, Color, FillRule, LineCap, LineJoin, Paint, Rect, TextAlign, clamp01 } from "./geometry";
import { TextSize, measureText } from "./host";
import { Path } from "./path";

// draw-op tags, in WIT order
const OP_PUSH: u8 = 0;
const OP_POP: u8 = 1;
const OP_FILL: u8 = 2;
const OP_STROKE: u8 = 3;
const OP_TEXT: u8 = 4;
const OP_IMAGE: u8 = 5;
const OP_VIDEO: u8 = 6;

/** Draw-list encoding version of ABI v1. */
const DRAW_LIST_VERSION: u8 = 1;
/** Byte offset of the op count: after "SRDL" and the version byte. */
const COUNT_AT: i32 = 5;

/** Group settings for `Canvas.push` / `Canvas.group`: a transform, an opacity, an
 *  optional clip path and a blend mode. `new Group()` is identity, opaque,
 *  unclipped, `BlendMode.Normal`. The setters return the group. */
export class Group {
  affine: Affine = Affine.IDENTITY;
  alpha: f32 = 1.0;
  clipPath: Path | null = null;
  blendMode: BlendMode = BlendMode.Normal;

  /** A group with this transform (applied after the enclosing groups'). */
  static transform(transform: Affine): Group {
    const g = new Group();
    g.affine = transform;
    return g;
  }

  /** Opacity 0..=1 (clamped). */
  opacity(opacity: f32): Group {
    this.alpha = clamp01(opacity);
    return this;
  }

  /** Content outside `clip` (in the group's coordinates) is not drawn. */
  clip(clip: Path): Group {
    this.clipPath = clip;
    return this;
  }

  blend(blend: BlendMode): Group {
    this.blendMode = blend;
    return this;
  }

  clone(): Group {
    const g = new Group();
    g.affine = this.affine;
    g.alpha = this.alpha;
    g.clipPath = this.clipPath;
    g.blendMode = this.blendMode;
    return g;
  }
}

/** Stroke settings: `StrokeStyle.width(4).join(LineJoin.Round).cap(LineCap.Round)`.
 *  Starts with miter joins, butt caps, miter limit 4 and no dash. */
export class StrokeStyle {
  lineWidth: f32 = 1.0;
  lineJoin: LineJoin = LineJoin.Miter;
  lineCap: LineCap = LineCap.Butt;
  miterLimit: f32 = 4.0;
  dashPattern: Array<f32> = [];
  dashOffset: f32 = 0.0;

  /** A style with this line width (> 0). */
  static width(width: f32): StrokeStyle {
    const s = new StrokeStyle();
    s.lineWidth = width;
    return s;
  }

  join(join: LineJoin): StrokeStyle {
    this.lineJoin = join;
    return this;
  }

  cap(cap: LineCap): StrokeStyle {
    this.lineCap = cap;
    return this;
  }

  /** Miter limit as a ratio of the width (SVG semantics), 1..=100. */
  miter(limit: f32): StrokeStyle {
    this.miterLimit = limit;
    return this;
  }

  /** Alternating on and off lengths, and where in the pattern the stroke starts. */
  dash(pattern: Array<f32>, offset: f32): StrokeStyle {
    this.dashPattern = pattern.slice(0);
    this.dashOffset = offset;
    return this;
  }

  clone(): StrokeStyle {
    const s = new StrokeStyle();
    s.lineWidth = this.lineWidth;
    s.lineJoin = this.lineJoin;
    s.lineCap = this.lineCap;
    s.miterLimit = this.miterLimit;
    s.dashPattern = this.dashPattern.slice(0);
    s.dashOffset = this.dashOffset;
    return s;
  }
}

/** Text settings: `new TextStyle(42).weight(700).align(TextAlign.Center)`. Starts
 *  with family "Inter", weight 400, white, start-aligned, no maximum width. The
 *  setters change this style and return it; `clone()` first to keep the original. */
export class TextStyle {
  fontFamily: string = "Inter";
  fontWeight: u16 = 400;
  textAlign: TextAlign = TextAlign.Start;
  textPaint: Paint = Color.WHITE;
  hasMaxWidth: bool = false;
  maxWidthPx: f32 = 0.0;

  /** `size` pixels. */
  constructor(public fontSize: f32) {}

  family(family: string): TextStyle {
    this.fontFamily = family;
    return this;
  }

  /** CSS weight, 100..=900. */
  weight(weight: u16): TextStyle {
    this.fontWeight = weight;
    return this;
  }

  align(align: TextAlign): TextStyle {
    this.textAlign = align;
    return this;
  }

  /** A `Color` or any other `Paint`. */
  paint(paint: Paint): TextStyle {
    this.textPaint = paint;
    return this;
  }

  /** Text wider than this is ellipsised. */
  maxWidth(width: f32): TextStyle {
    this.hasMaxWidth = true;
    this.maxWidthPx = width;
    return this;
  }

  /** Width and height of `text` in this style, as the host measures it. */
  measure(text: string): TextSize {
    return measureText(text, this.fontFamily, this.fontSize);
  }

  clone(): TextStyle {
    const s = new TextStyle(this.fontSize);
    s.fontFamily = this.fontFamily;
    s.fontWeight = this.fontWeight;
    s.textAlign = this.textAlign;
    s.textPaint = this.textPaint;
    s.hasMaxWidth = this.hasMaxWidth;
    s.maxWidthPx = this.maxWidthPx;
    return s;
  }
}

/** Collects the draw ops of one frame, in painting order (later ops on top).
 *  Coordinates are output pixels, x right, y down, (0, 0) top-left. */
export class Canvas {
  private out: Writer = new Writer(4096);
  private count: u32 = 0;
  private depth: i32 = 0;

  constructor() {
    this.clear();
  }

  /** Forgets everything drawn. */
  clear(): void {
    const out = this.out;
    out.reset();
    store<u32>(out.reserve(4), 0x4c445253); // "SRDL"
    out.writeU8(DRAW_LIST_VERSION);
    out.writeU32(0);
    this.count = 0;
    this.depth = 0;
  }

  /** Number of ops drawn so far. */
  get length(): i32 {
    return <i32>this.count;
  }

  isEmpty(): bool {
    return this.count == 0;
  }

  /** Groups open now. */
  get openGroups(): i32 {
    return this.depth;
  }

  /** Fills `path` with the non-zero rule. */
  fill(path: Path, paint: Paint): Canvas {
    return this.fillWithRule(path, paint, FillRule.NonZero);
  }

  fillWithRule(path: Path, paint: Paint, rule: FillRule): Canvas {
    const out = this.op(OP_FILL);
    path.encode(out);
    paint.encode(out);
    out.writeU8(<u8>rule);
    return this;
  }

  /** Fills a rectangle. */
  fillRect(rect: Rect, paint: Paint): Canvas {
    return this.fill(Path.rect(rect), paint);
  }

  /** Strokes `path`. */
  stroke(path: Path, paint: Paint, style: StrokeStyle): Canvas {
    const out = this.op(OP_STROKE);
    path.encode(out);
    paint.encode(out);
    out.writeF32(style.lineWidth);
    out.writeU8(<u8>style.lineJoin);
    out.writeU8(<u8>style.lineCap);
    out.writeF32(style.miterLimit);
    out.writeF32List(style.dashPattern);
    out.writeF32(style.dashOffset);
    return this;
  }

  /** Draws `text` with its anchor at (x, baseline y). */
  text(text: string, x: f32, y: f32, style: TextStyle): Canvas {
    const out = this.op(OP_TEXT);
    out.writeString(text);
    out.writeString(style.fontFamily);
    out.writeU16(style.fontWeight);
    out.writeF32(style.fontSize);
    out.writeF32(x);
    out.writeF32(y);
    out.writeU8(<u8>style.textAlign);
    style.textPaint.encode(out);
    if (style.hasMaxWidth) {
      out.writeU8(1);
      out.writeF32(style.maxWidthPx);
    } else {
      out.writeU8(0);
    }
    return this;
  }

  /** Draws an image asset scaled into `dest`. */
  image(asset: string, dest: Rect, opacity: f32): Canvas {
    const out = this.op(OP_IMAGE);
    out.writeString(asset);
    dest.encode(out);
    out.writeF32(opacity);
    return this;
  }

  /** Draws the current frame of a named live input into `dest`. */
  video(input: string, dest: Rect, opacity: f32): Canvas {
    const out = this.op(OP_VIDEO);
    out.writeString(input);
    dest.encode(out);
    out.writeF32(opacity);
    return this;
  }

  /** Opens a group; everything until the matching `pop` is drawn through it.
   *  Groups still open when the frame ends are closed for you. */
  push(group: Group): Canvas {
    const out = this.op(OP_PUSH);
    group.affine.encode(out);
    out.writeF32(group.alpha);
    const clip = group.clipPath;
    if (clip !== null) {
      out.writeU8(1);
      clip.encode(out);
    } else {
      out.writeU8(0);
    }
    out.writeU8(<u8>group.blendMode);
    this.depth++;
    return this;
  }

  /** Closes the innermost group; does nothing if none is open. */
  pop(): Canvas {
    if (this.depth > 0) {
      this.depth--;
      this.op(OP_POP);
    }
    return this;
  }

  /** Draws whatever `body` draws through a group. AssemblyScript functions cannot
   *  capture variables, so what the body needs comes in as `ctx` (often `this`):
   *  `canvas.group(g, this, (c: Canvas, self: MyScene) => { ... })`. */
  group<T>(group: Group, ctx: T, body: (canvas: Canvas, ctx: T) => void): Canvas {
    this.push(group);
    body(this, ctx);
    this.pop();
    return this;
  }

  /** Closes open groups and returns the draw list's length in bytes; its bytes
   *  start at `bytesPtr`. */
  finish(): i32 {
    while (this.depth > 0) this.pop();
    this.out.patchU32(COUNT_AT, this.count);
    return this.out.length;
  }

  /** Address of the encoded draw list (valid until the next draw call). */
  get bytesPtr(): usize {
    return this.out.ptr;
  }

  /** A copy of the encoded draw list, groups closed (for tests). */
  toBytes(): Uint8Array {
    this.finish();
    return this.out.toBytes();
  }

  private op(tag: u8): Writer {
    this.count++;
    this.out.writeU8(tag);
    return this.out;
  }
}
