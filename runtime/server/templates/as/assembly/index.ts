// {{name}}: a title card that rises and fades in on `play` and goes on `stop`.
//
// Props: `text` (what the card says) and `color` (the card's colour). Hot-swap and
// fault recovery keep whether it is on screen.
//
// Build: `npm install && npm run build`; the module lands in build/{{crate_name}}.wasm.
// Try it:
//   showrunner check build/{{crate_name}}.wasm
//   showrunner ticks build/{{crate_name}}.wasm --frames 60 --event 0:play --every 10

import {
  Affine,
  Appear,
  Canvas,
  Color,
  Easing,
  Event,
  FrameInfo,
  Group,
  ModuleInfo,
  Path,
  PropSpec,
  Props,
  Rect,
  Scene,
  StateReader,
  StateWriter,
  TextAlign,
  TextStyle,
  lerp,
  registerScene,
} from "@showrunner/guest";

// The module's exports (sr_abi_version, sr_tick, ...): AssemblyScript exports only
// what the entry file exports.
export * from "@showrunner/guest/assembly/exports";

/** Text size at 1080p; everything is laid out at 1080p and scaled to the output. */
const TEXT_SIZE: f32 = 64.0;

function textStyle(scale: f32): TextStyle {
  return new TextStyle(TEXT_SIZE * scale).weight(700).align(TextAlign.Center);
}

class TitleCard extends Scene {
  text: string = "";
  color: Color = Color.WHITE;
  /** Width of `text` at 1080p. Measuring crosses into the host, so it is done when
   *  the text changes, not every frame. */
  textWidth: f32 = 0.0;
  appear: Appear = new Appear(0.5, 0.3);

  describe(): ModuleInfo {
    return new ModuleInfo("{{name}}", "0.1.0", [
      PropSpec.text("text", "Text", "Hello, showrunner"),
      PropSpec.color("color", "Card colour", Color.hex(0x2d6cdf)),
    ]);
  }

  /** Gets every current value, not just the changed ones. */
  setProps(props: Props): void {
    const text = props.text("text");
    if (text != this.text) {
      this.text = text;
      this.textWidth = textStyle(1.0).measure(text).width;
    }
    this.color = props.color("color", Color.hex(0x2d6cdf));
  }

  /** Events carry no time: `Appear` notes the request and starts it at the next tick. */
  onEvent(event: Event): void {
    if (event.name == "play") this.appear.play();
    else if (event.name == "stop") this.appear.stop();
  }

  tick(frame: FrameInfo, canvas: Canvas): void {
    const shown = this.appear.update(frame.time); // 0 = hidden ..= 1 = fully in
    if (shown <= 0.0) return;
    const w = <f32>frame.width;
    const h = <f32>frame.height;
    const s: f32 = h / 1080.0;
    const cardWidth = Mathf.min(this.textWidth * s + 128.0 * s, w - 160.0 * s);
    const card = new Rect((w - cardWidth) / 2.0, h - 300.0 * s, cardWidth, 128.0 * s);
    const rise = lerp(48.0 * s, 0.0, Easing.OutCubic.apply(shown));
    canvas.push(Group.transform(Affine.translate(0.0, rise)).opacity(shown));
    canvas.fill(Path.roundedRect(card, 16.0 * s), this.color);
    canvas.text(this.text, w / 2.0, card.y + 86.0 * s, textStyle(s).maxWidth(cardWidth - 64.0 * s));
    canvas.pop();
  }

  /** What a new version of this module (hot-swap) or a restarted instance (after a
   *  fault) takes over. Write new fields after the old ones. */
  saveState(): Uint8Array {
    const w = new StateWriter();
    this.appear.save(w);
    return w.finish();
  }

  restoreState(saved: Uint8Array): string | null {
    const r = StateReader.open(saved);
    const appear = Appear.load(r);
    if (r.error !== null) return r.error;
    this.appear = appear;
    return null;
  }
}

registerScene((): Scene => new TitleCard());
