// Test guest: an AssemblyScript scene that misbehaves on purpose, so host tests can
// check that core-ABI modules fault exactly like components. Not shipped.
//
// Prop `mode`: "ok" (draws a square), "tick-loop" (never returns from tick),
// "init-loop" (never returns from init), "memory-bomb" (allocates until the memory
// cap), "abort" (calls abort() in tick), "throw" (throws in tick).
// Build: `npm ci && npm run build` here, or `cargo xtask build-scenes`.

import { Canvas, Color, FrameInfo, ModuleInfo, PropSpec, Props, Rect, Scene, registerScene } from "@showrunner/guest";

export * from "@showrunner/guest/assembly/exports";

// Kept alive so the optimiser cannot drop the allocations.
const hoard: Array<Uint8Array> = [];
let spins: i64 = 0;

class Hostile extends Scene {
  mode: string = "ok";

  describe(): ModuleInfo {
    return new ModuleInfo("Hostile AS (test guest)", "0.1.0", [
      PropSpec.text("mode", "Misbehaviour: ok, tick-loop, init-loop, memory-bomb, abort, throw", "ok"),
    ]);
  }

  setProps(props: Props): void {
    this.mode = props.text("mode");
    if (this.mode == "init-loop") {
      while (true) spins++;
    }
  }

  tick(frame: FrameInfo, canvas: Canvas): void {
    if (this.mode == "tick-loop") {
      while (true) spins++;
    } else if (this.mode == "memory-bomb") {
      while (true) {
        const chunk = new Uint8Array(4 << 20);
        chunk[chunk.length - 1] = 1;
        hoard.push(chunk);
      }
    } else if (this.mode == "abort") {
      abort("hostile abort");
    } else if (this.mode == "throw") {
      throw new Error("hostile throw");
    }
    canvas.fillRect(new Rect(10, 10, 100, 100), Color.rgb(1, 0, 0));
  }
}

registerScene((): Scene => new Hostile());
