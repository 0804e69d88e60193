// The host's services (module "showrunner" of core-module ABI v1): log lines,
// asset sizes and text measurement. A module imports only the ones it uses.

import { Writer } from "./abi";

// @ts-ignore: decorator
@external("showrunner", "log")
declare function hostLog(level: i32, ptr: usize, len: usize): void;

// @ts-ignore: decorator
@external("showrunner", "asset_size")
declare function hostAssetSize(namePtr: usize, nameLen: usize, outPtr: usize): i32;

// @ts-ignore: decorator
@external("showrunner", "measure_text")
declare function hostMeasureText(textPtr: usize, textLen: usize, familyPtr: usize, familyLen: usize, size: f32, outPtr: usize): void;

/** Severity of a log line. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/** Width and height of a measured text run, in pixels. */
export class TextSize {
  constructor(
    public readonly width: f32,
    public readonly height: f32,
  ) {}
}

/** Pixel size of an asset. */
export class AssetSize {
  constructor(
    public readonly width: u32,
    public readonly height: u32,
  ) {}
}

/** UTF-8 copies of strings handed to the host, reused between calls. */
const scratch = new Writer(256);
/** Where the host writes results (two u32 or two f32). */
const result: usize = memory.data(8, 4);

/** Writes a line to the layer's log (rate-limited by the host: at most 20 lines per
 *  call into the module are kept, each cut to 512 bytes). */
export function writeLog(level: LogLevel, message: string): void {
  scratch.reset();
  const n = scratch.writeUtf8(message);
  hostLog(<i32>level, scratch.ptr, <usize>n);
}

/** Width and height in pixels of `text` set in `family` at `size` pixels, as the host
 *  will shape it (`showrunner ticks` estimates 0.55 em per character). */
export function measureText(text: string, family: string, size: f32): TextSize {
  scratch.reset();
  const textLen = scratch.writeUtf8(text);
  const familyLen = scratch.writeUtf8(family);
  const base = scratch.ptr; // after both writes: the buffer may have grown
  hostMeasureText(base, <usize>textLen, base + <usize>textLen, <usize>familyLen, size, result);
  return new TextSize(load<f32>(result), load<f32>(result, 4));
}

/** Pixel size of an asset, or null if the host has no asset of that name (always
 *  null under `showrunner ticks`). */
export function assetSize(name: string): AssetSize | null {
  scratch.reset();
  const n = scratch.writeUtf8(name);
  if (hostAssetSize(scratch.ptr, <usize>n, result) == 0) return null;
  return new AssetSize(load<u32>(result), load<u32>(result, 4));
}

/** The layer's log: `log.info("...")`. */
export namespace log {
  export function trace(message: string): void {
    writeLog(LogLevel.Trace, message);
  }
  export function debug(message: string): void {
    writeLog(LogLevel.Debug, message);
  }
  export function info(message: string): void {
    writeLog(LogLevel.Info, message);
  }
  export function warn(message: string): void {
    writeLog(LogLevel.Warn, message);
  }
  export function error(message: string): void {
    writeLog(LogLevel.Error, message);
  }
}
