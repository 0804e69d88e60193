// Easing curves, tweens and Appear, the in/out animation state most overlays
// need. Same arithmetic as the Rust SDK (guest-sdk/rust/src/tween.rs), in f32 where
// it uses f32, so the two produce the same numbers.

import { StateReader, StateWriter } from "./state";

/** An easing curve mapping 0..=1 to 0..=1 (`OutBack` overshoots a little):
 *  `Easing.OutCubic.apply(t)`. */
export class Easing {
  static readonly Linear: Easing = new Easing(0);
  static readonly InQuad: Easing = new Easing(1);
  static readonly OutQuad: Easing = new Easing(2);
  static readonly InOutQuad: Easing = new Easing(3);
  static readonly InCubic: Easing = new Easing(4);
  static readonly OutCubic: Easing = new Easing(5);
  static readonly InOutCubic: Easing = new Easing(6);
  static readonly OutBack: Easing = new Easing(7);

  /** Position in the list above (also its index in saved state). */
  constructor(public readonly index: u8) {}

  /** The easing with this index, or null. */
  static fromIndex(index: u32): Easing | null {
    switch (index) {
      case 0: return Easing.Linear;
      case 1: return Easing.InQuad;
      case 2: return Easing.OutQuad;
      case 3: return Easing.InOutQuad;
      case 4: return Easing.InCubic;
      case 5: return Easing.OutCubic;
      case 6: return Easing.InOutCubic;
      case 7: return Easing.OutBack;
    }
    return null;
  }

  /** Eased value at `t` (clamped to 0..=1). */
  apply(t: f32): f32 {
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
    switch (this.index) {
      case 1:
        return t * t;
      case 2:
        return 1.0 - (1.0 - t) * (1.0 - t);
      case 3: {
        if (t < 0.5) return 2.0 * t * t;
        const u: f32 = -2.0 * t + 2.0;
        return 1.0 - (u * u) / 2.0;
      }
      case 4:
        return t * t * t;
      case 5: {
        const u: f32 = 1.0 - t;
        return 1.0 - u * u * u;
      }
      case 6: {
        if (t < 0.5) return 4.0 * t * t * t;
        const u: f32 = -2.0 * t + 2.0;
        return 1.0 - (u * u * u) / 2.0;
      }
      case 7: {
        const c1: f32 = 1.70158;
        const c3: f32 = c1 + 1.0;
        const u: f32 = t - 1.0;
        return 1.0 + c3 * (u * u * u) + c1 * (u * u);
      }
    }
    return t;
  }
}

/** Linear interpolation from `a` to `b`. */
export function lerp(a: f32, b: f32, t: f32): f32 {
  return a + (b - a) * t;
}

/** A value animated from `from` to `to` over `duration` seconds from `start`. */
export class Tween {
  constructor(
    public from: f32,
    public to: f32,
    public start: f64,
    public duration: f64,
    public easing: Easing = Easing.Linear,
  ) {}

  /** Linear progress 0..=1 at `time`. */
  progress(time: f64): f32 {
    if (this.duration <= 0.0) return time >= this.start ? 1.0 : 0.0;
    let p = (time - this.start) / this.duration;
    p = p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
    return <f32>p;
  }

  /** Eased value at `time`. */
  value(time: f64): f32 {
    return lerp(this.from, this.to, this.easing.apply(this.progress(time)));
  }

  done(time: f64): bool {
    return time >= this.start + this.duration;
  }

  /** Writes the tween for saved state (the field order of the Rust SDK's `Tween`). */
  save(w: StateWriter): void {
    w.writeF32(this.from);
    w.writeF32(this.to);
    w.writeF64(this.start);
    w.writeF64(this.duration);
    w.writeVariant(this.easing.index);
  }

  /** Reads what `save` wrote; check `r.error` afterwards. */
  static load(r: StateReader): Tween {
    const from = r.readF32();
    const to = r.readF32();
    const start = r.readF64();
    const duration = r.readF64();
    const index = r.readVariant();
    let easing = Easing.fromIndex(index);
    if (easing === null) {
      r.fail("unknown easing " + index.toString());
      easing = Easing.Linear;
    }
    return new Tween(from, to, start, duration, easing);
  }
}

/** Where an `Appear` animation is. */
export enum Phase {
  Hidden = 0,
  /** `play` arrived; the animation starts at the next tick. */
  InRequested = 1,
  /** Animating in since `Appear.start`. */
  In = 2,
  Shown = 3,
  OutRequested = 4,
  /** Animating out since `Appear.start`. */
  Out = 5,
}

/** The in/out animation of an overlay: `play()` animates it in, `stop()` out.
 *  Events carry no time, so a request starts at the next `update(frame.time)`. */
export class Appear {
  phase: Phase = Phase.Hidden;
  /** When the `In` or `Out` phase started (frame time, seconds). */
  start: f64 = 0.0;

  constructor(
    public inSeconds: f64,
    public outSeconds: f64,
  ) {}

  play(): void {
    const p = this.phase;
    if (p == Phase.Hidden || p == Phase.OutRequested || p == Phase.Out) this.phase = Phase.InRequested;
  }

  stop(): void {
    const p = this.phase;
    if (p == Phase.Shown || p == Phase.InRequested || p == Phase.In) this.phase = Phase.OutRequested;
  }

  /** Advances to `time` and returns visibility 0 (hidden) ..= 1 (fully in), linear. */
  update(time: f64): f32 {
    switch (this.phase) {
      case Phase.InRequested:
        this.phase = Phase.In;
        this.start = time;
        break;
      case Phase.OutRequested:
        this.phase = Phase.Out;
        this.start = time;
        break;
      case Phase.In:
        if (time - this.start >= this.inSeconds) this.phase = Phase.Shown;
        break;
      case Phase.Out:
        if (time - this.start >= this.outSeconds) this.phase = Phase.Hidden;
        break;
    }
    switch (this.phase) {
      case Phase.In:
        return new Tween(0.0, 1.0, this.start, this.inSeconds).value(time);
      case Phase.Out:
        return new Tween(1.0, 0.0, this.start, this.outSeconds).value(time);
      case Phase.Shown:
      case Phase.OutRequested:
        return 1.0;
    }
    return 0.0;
  }

  isVisible(): bool {
    return !(this.phase == Phase.Hidden || this.phase == Phase.InRequested);
  }

  clone(): Appear {
    const a = new Appear(this.inSeconds, this.outSeconds);
    a.phase = this.phase;
    a.start = this.start;
    return a;
  }

  /** Writes the animation state. The layout is postcard's encoding of the Rust
   *  SDK's `Appear` (phase variant, its start if any, in_seconds, out_seconds), so
   *  state saved by a Rust scene that saves just its `Appear` loads here, and back. */
  save(w: StateWriter): void {
    w.writeVariant(<u32>this.phase);
    if (this.phase == Phase.In || this.phase == Phase.Out) w.writeF64(this.start);
    w.writeF64(this.inSeconds);
    w.writeF64(this.outSeconds);
  }

  /** Reads what `save` wrote; check `r.error` afterwards. */
  static load(r: StateReader): Appear {
    const phase = r.readVariant();
    let start: f64 = 0.0;
    if (phase > 5) r.fail("unknown appear phase " + phase.toString());
    else if (phase == Phase.In || phase == Phase.Out) start = r.readF64();
    const a = new Appear(r.readF64(), r.readF64());
    if (r.error === null) {
      a.phase = <Phase>phase;
      a.start = start;
    }
    return a;
  }
}
