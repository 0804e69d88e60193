// Lower third in AssemblyScript: a name and a title on a coloured bar, bottom left.
//
// The same scene as example-scenes/lower-third (Rust), op for op: slides in on
// `play`, out on `stop`. Props: `name`, `title`, `accent`, `background`,
// `text-color`. Hot-swap keeps whether it is on screen (its saved state is byte for
// byte the Rust scene's, so either can replace the other).
//
// Build (Node 20+): `npm ci && npm run build` in this folder, or
// `cargo xtask build-scenes` from the repository root; the module lands in
// build/as_lower_third.wasm. Try it:
//   showrunner check build/as_lower_third.wasm
//   showrunner ticks build/as_lower_third.wasm --frames 60 --event 0:play

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
  TextStyle,
  lerp,
  registerScene,
} from "@showrunner/guest";

// The module's exports (sr_abi_version, sr_tick, ...): AssemblyScript exports only
// what the entry file exports.
export * from "@showrunner/guest/assembly/exports";

class LowerThird extends Scene {
  name: string = "";
  title: string = "";
  accent: Color = Color.WHITE;
  background: Color = Color.BLACK;
  textColor: Color = Color.WHITE;
  appear: Appear = new Appear(0.6, 0.4);
  /** Text width measured for a frame height; measuring crosses into the host, so
   *  it is done again only when the text or the output height changes. */
  hasMeasured: bool = false;
  measuredHeight: u32 = 0;
  measuredWidth: f32 = 0.0;

  describe(): ModuleInfo {
    return new ModuleInfo("Lower third", "0.1.0+as", [
      PropSpec.text("name", "Name", "Jane Doe"),
      PropSpec.text("title", "Title", "Host"),
      PropSpec.color("accent", "Accent colour", Color.hex(0xe83a3a)),
      PropSpec.color("background", "Bar colour", Color.rgba(0.05, 0.06, 0.09, 0.9)),
      PropSpec.color("text-color", "Text colour", Color.WHITE),
    ]);
  }

  setProps(props: Props): void {
    const name = props.text("name");
    const title = props.text("title");
    if (name != this.name || title != this.title) this.hasMeasured = false;
    this.name = name;
    this.title = title;
    this.accent = props.color("accent", Color.hex(0xe83a3a));
    this.background = props.color("background", Color.BLACK);
    this.textColor = props.color("text-color", Color.WHITE);
  }

  onEvent(event: Event): void {
    if (event.name == "play") this.appear.play();
    else if (event.name == "stop") this.appear.stop();
  }

  tick(frame: FrameInfo, canvas: Canvas): void {
    const shown = this.appear.update(frame.time);
    if (shown <= 0.0) return;
    const w = <f32>frame.width;
    const h = <f32>frame.height;
    const scale: f32 = h / 1080.0;
    const nameStyle = new TextStyle(54.0 * scale).weight(700).paint(this.textColor);
    const titleStyle = new TextStyle(32.0 * scale).paint(this.textColor.fade(0.8));
    if (!this.hasMeasured || this.measuredHeight != frame.height) {
      this.measuredWidth = Mathf.max(nameStyle.measure(this.name).width, titleStyle.measure(this.title).width);
      this.measuredHeight = frame.height;
      this.hasMeasured = true;
    }
    const textWidth = this.measuredWidth;

    const margin: f32 = 96.0 * scale;
    const barX = margin;
    const barY: f32 = h - 260.0 * scale;
    const barHeight: f32 = 150.0 * scale;
    const barWidth = Mathf.min(textWidth + 80.0 * scale, w - 2.0 * margin);
    const eased = Easing.OutCubic.apply(shown);
    const slide = lerp(-(barWidth + margin), 0.0, eased);

    canvas.push(Group.transform(Affine.translate(slide, 0.0)).opacity(shown));
    const bar = new Rect(barX, barY, barWidth, barHeight);
    canvas.fill(Path.roundedRect(bar, 8.0 * scale), this.background);
    canvas.fillRect(new Rect(bar.x, bar.y, 10.0 * scale, bar.height), this.accent);
    const textX: f32 = bar.x + 40.0 * scale;
    const maxWidth: f32 = barWidth - 60.0 * scale;
    canvas.text(this.name, textX, bar.y + 70.0 * scale, nameStyle.maxWidth(maxWidth));
    canvas.text(this.title, textX, bar.y + 118.0 * scale, titleStyle.maxWidth(maxWidth));
    canvas.pop();
  }

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

registerScene((): Scene => new LowerThird());
