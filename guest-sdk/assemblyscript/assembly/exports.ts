// The exports of core-module ABI v1 (wit/core-abi-v1.md). AssemblyScript exports
// only what the entry file exports, so a scene's entry file re-exports this file:
//
//   export * from "@showrunner/guest/assembly/exports";
//   registerScene((): Scene => new MyScene());
//
// Everything exported here becomes a Wasm export; helpers stay unexported.
//
// Memory: the host writes a call's input into the buffer `sr_alloc` returns (kept
// alive in a global until the next sr_alloc), and reads a call's output at
// `sr_output()` right after the call returns; both are managed ArrayBuffers, so the
// incremental GC reclaims everything a tick allocates.

import { Reader, Writer } from "./abi";
import { Canvas } from "./canvas";
import { Props } from "./props";
import { Event, FrameInfo, Scene, makeScene } from "./scene";

/** The live scene of this instance, after a successful sr_init. */
let scene: Scene | null = null;
/** Every current prop value (defaults merged with what the host sent). */
let props: Props = Props.empty();
/** Reused every frame. */
let canvas: Canvas | null = null;
/** Where the host writes inputs. */
let input = new ArrayBuffer(256);
/** Outputs other than draw lists (module-info, result, state). */
const out = new Writer(256);
/** Address of the last output. */
let outputPtr: usize = 0;

function emit(w: Writer): i32 {
  outputPtr = w.ptr;
  return w.length;
}

function emitResult(error: string | null): i32 {
  out.reset();
  if (error === null) {
    out.writeU8(0);
  } else {
    out.writeU8(1);
    out.writeString(error);
  }
  return emit(out);
}

/** ABI version: 1. */
export function sr_abi_version(): i32 {
  return 1;
}

/** A buffer of `len` writable bytes for the next call's input. */
export function sr_alloc(len: i32): usize {
  if (len < 0) abort("showrunner: sr_alloc with a negative length");
  if (len > input.byteLength) input = new ArrayBuffer(len);
  return changetype<usize>(input);
}

/** Address of the last call's output. */
export function sr_output(): usize {
  return outputPtr;
}

/** Encodes `module-info`; returns its length. */
export function sr_describe(): i32 {
  out.reset();
  makeScene().describe().encode(out);
  return emit(out);
}

/** Input `props`; output `result`. */
export function sr_init(ptr: usize, len: i32): i32 {
  const given = Props.decodeList(new Reader(ptr, len));
  const fresh = makeScene();
  const all = Props.defaults(fresh.describe().props);
  all.merge(given);
  const error = fresh.init(all);
  if (error === null) {
    scene = fresh;
    props = all;
  }
  return emitResult(error);
}

/** Input `props` (only the changed ones); the scene gets every current value. */
export function sr_set_props(ptr: usize, len: i32): void {
  const changed = Props.decodeList(new Reader(ptr, len));
  props.merge(changed);
  const s = scene;
  if (s !== null) s.setProps(props);
}

/** Input `event`. */
export function sr_on_event(ptr: usize, len: i32): void {
  const event = Event.decode(new Reader(ptr, len));
  const s = scene;
  if (s !== null) s.onEvent(event);
}

/** Input `frame-info`; output the frame's draw list. */
export function sr_tick(ptr: usize, len: i32): i32 {
  const frame = FrameInfo.decode(new Reader(ptr, len));
  let c = canvas;
  if (c === null) {
    c = new Canvas();
    canvas = c;
  }
  c.clear();
  const s = scene;
  if (s !== null) s.tick(frame, c);
  const n = c.finish();
  outputPtr = c.bytesPtr;
  return n;
}

/** Output the state bytes as they are. */
export function sr_save_state(): i32 {
  out.reset();
  const s = scene;
  if (s !== null) {
    const saved = s.saveState();
    out.writeRaw(saved.dataStart, saved.length);
  }
  return emit(out);
}

/** Input the state bytes; output `result`. */
export function sr_restore_state(ptr: usize, len: i32): i32 {
  const saved = new Reader(ptr, len).readRest();
  const s = scene;
  if (s === null) return emitResult("restore-state called before init");
  return emitResult(s.restoreState(saved));
}
