// @showrunner/guest: write showrunner overlays in AssemblyScript.
//
// A scene extends `Scene`; its entry file re-exports the ABI and registers it:
//
//   import { Scene, registerScene } from "@showrunner/guest";
//   export * from "@showrunner/guest/assembly/exports";
//   class Hello extends Scene { ... }
//   registerScene((): Scene => new Hello());
//
// The module is a core Wasm module speaking core-module ABI v1
// (wit/core-abi-v1.md). See README.md for the guide.

export { Scene, FrameInfo, Event, registerScene } from "./scene";
export { Canvas, Group, StrokeStyle, TextStyle } from "./canvas";
export {
  Affine,
  BlendMode,
  Color,
  FillRule,
  ImageFill,
  LineCap,
  LineJoin,
  LinearGradient,
  Paint,
  Point,
  RadialGradient,
  Rect,
  Stop,
  TextAlign,
} from "./geometry";
export { Path, PathBuilder } from "./path";
export { ModuleInfo, Prop, PropKind, PropSpec, PropValue, Props } from "./props";
export { Appear, Easing, Phase, Tween, lerp } from "./tween";
export { STATE_FORMAT, StateReader, StateWriter } from "./state";
export { AssetSize, LogLevel, TextSize, assetSize, log, measureText, writeLog } from "./host";
export { Reader, Writer } from "./abi";
