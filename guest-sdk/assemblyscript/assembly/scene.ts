// The Scene class authors extend, the values its methods receive (FrameInfo,
// Event) and registerScene, which tells the ABI exports which scene to run.

import { Reader } from "./abi";
import { Canvas } from "./canvas";
import { ModuleInfo, Props } from "./props";

/** What the host tells a module about the frame it is rendering. */
export class FrameInfo {
  constructor(
    /** Frame number since the layer went live, from 0. */
    public index: u64,
    /** Presentation time in seconds: `index · fpsDen / fpsNum`. The only clock. */
    public time: f64,
    /** Output width in pixels. */
    public width: u32,
    /** Output height in pixels. */
    public height: u32,
    /** Frame rate numerator (30000 for 29.97). */
    public fpsNum: u32,
    /** Frame rate denominator (1001 for 29.97). */
    public fpsDen: u32,
  ) {}

  /** Frame `index` at `fpsNum / fpsDen` frames per second, timed the way the host
   *  times it (from the index, never accumulated). */
  static at(index: u64, width: u32, height: u32, fpsNum: u32, fpsDen: u32): FrameInfo {
    let num = fpsNum;
    let den = fpsDen;
    if (num == 0 || den == 0) {
      num = 30;
      den = 1;
    }
    return new FrameInfo(index, (<f64>index * <f64>den) / <f64>num, width, height, num, den);
  }

  /** `frame-info`: u64 index, f64 time, u32 width, height, fps-num, fps-den. */
  static decode(r: Reader): FrameInfo {
    const index = r.readU64();
    const time = r.readF64();
    const width = r.readU32();
    const height = r.readU32();
    const fpsNum = r.readU32();
    const fpsDen = r.readU32();
    return new FrameInfo(index, time, width, height, fpsNum, fpsDen);
  }
}

/** Something that happened to a layer: "play", "stop", "next", "update" or a custom
 *  name, with a free-form payload (JSON by convention). */
export class Event {
  constructor(
    public name: string,
    public payload: string = "",
  ) {}

  static decode(r: Reader): Event {
    const name = r.readString();
    return new Event(name, r.readString());
  }
}

/** An overlay: one instance per layer, ticked once per output frame.
 *
 *  The constructor must take no arguments and should only set fields to neutral
 *  values; the host constructs a throwaway instance just to call `describe()`.
 *  `init(props)` is where a scene starts (the Rust SDK's `new`). */
export abstract class Scene {
  /** Name, version and property specs. Must not depend on state. */
  abstract describe(): ModuleInfo;

  /** Starts the scene with its initial properties (every spec's default filled
   *  in). Returns null when it is ready or an error message, which makes the host
   *  reject the layer. By default it calls `setProps(props)`. */
  init(props: Props): string | null {
    this.setProps(props);
    return null;
  }

  /** Properties changed; `props` holds every current value, not just the changed ones. */
  setProps(props: Props): void {}

  /** An event arrived. Events carry no time: note what happened and act on it in
   *  the next `tick`. */
  onEvent(event: Event): void {}

  /** Draws one frame into `canvas`. `frame.time` is the only clock. */
  abstract tick(frame: FrameInfo, canvas: Canvas): void;

  /** State to carry into the next version on hot-swap and into a restart after a
   *  fault (see `StateWriter`). Empty by default. */
  saveState(): Uint8Array {
    return new Uint8Array(0);
  }

  /** Continues from a previous `saveState` (see `StateReader`). Returns null when
   *  it worked or why not (then a hot-swap is refused). Accepts anything by default. */
  restoreState(saved: Uint8Array): string | null {
    return null;
  }
}

/** The function that makes the module's scene; set by `registerScene`. */
let sceneFactory: (() => Scene) | null = null;

/** Tells the SDK which scene this module runs. Call it once at the top level of
 *  the entry file, next to `export * from "@showrunner/guest/assembly/exports"`:
 *
 *  ```ts
 *  registerScene((): Scene => new MyScene());
 *  ```
 */
export function registerScene(factory: () => Scene): void {
  sceneFactory = factory;
}

/** A new instance of the registered scene. */
export function makeScene(): Scene {
  const factory = sceneFactory;
  if (factory === null) {
    abort("showrunner: no scene registered; call registerScene(() => new MyScene()) in the entry file");
    unreachable();
  }
  return factory();
}
