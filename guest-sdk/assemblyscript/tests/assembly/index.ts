// Test scene for the SDK's own tests (tests/sdk.test.mjs): draws every kind of op
// with known values, answers events with probes of Easing, Tween, Appear and
// Affine, and saves a state that covers every StateWriter field kind.

import {
  Affine,
  Appear,
  BlendMode,
  Canvas,
  Color,
  Easing,
  Event,
  FillRule,
  FrameInfo,
  Group,
  LineCap,
  LineJoin,
  ModuleInfo,
  Paint,
  Path,
  PathBuilder,
  Phase,
  PropSpec,
  Props,
  Rect,
  Scene,
  StateReader,
  StateWriter,
  Stop,
  StrokeStyle,
  TextAlign,
  TextStyle,
  Tween,
  assetSize,
  lerp,
  log,
  registerScene,
} from "../../assembly/index";

export * from "../../assembly/exports";

class TestScene extends Scene {
  probe: string = "";
  events: i32 = 0;
  label: string = "";
  speed: f64 = 0.0;

  describe(): ModuleInfo {
    return new ModuleInfo("SDK test", "9.8.7", [
      PropSpec.text("label", "Label", "hello"),
      PropSpec.number("speed", "Speed", 160.0).range(10.0, 2000.0),
      PropSpec.color("tint", "Tint", Color.hex(0x336699)),
      PropSpec.flag("fail", "Fail init", false),
      PropSpec.asset("logo", "Logo", "default-logo"),
    ]);
  }

  init(props: Props): string | null {
    if (props.flag("fail", true)) return "init refused: fail is set";
    this.setProps(props);
    return null;
  }

  setProps(props: Props): void {
    this.label = props.text("label");
    this.speed = props.number("speed", -1.0);
    const tint = props.color("tint", Color.BLACK);
    log.info(
      "props label=" + this.label + " speed=" + this.speed.toString() + " logo=" + props.text("logo") +
        " tint.r=" + tint.r.toString() + " missing=" + props.number("missing", 7.0).toString() +
        " count=" + props.values.length.toString(),
    );
  }

  onEvent(event: Event): void {
    this.events++;
    if (event.name == "crash") abort("boom: " + event.payload);
    this.probe = event.name;
    log.debug("event " + event.name + " " + event.payload);
  }

  tick(frame: FrameInfo, canvas: Canvas): void {
    const probe = this.probe;
    this.probe = "";
    if (probe == "ops") drawAll(frame, canvas, this.label);
    else if (probe == "easing") probeEasing(canvas);
    else if (probe == "appear") probeAppear(canvas);
    else if (probe == "affine") probeAffine(canvas);
    else if (probe == "garbage") {
      // allocate a lot, keep nothing
      for (let i = 0; i < 200; i++) {
        const p = new PathBuilder().circle(<f32>i, <f32>i, 10.0).build();
        canvas.fill(p, Color.rgb(0.5, 0.5, 0.5));
      }
      canvas.clear();
    } else if (probe == "frame") {
      const s = new TextStyle(10.0);
      canvas.text(frame.index.toString(), <f32>frame.time, <f32>frame.width, s);
      canvas.text(frame.fpsNum.toString() + "/" + frame.fpsDen.toString(), <f32>frame.height, 0.0, s);
    } else if (probe == "events") {
      canvas.text(this.events.toString(), 0.0, 0.0, new TextStyle(10.0));
    }
  }

  saveState(): Uint8Array {
    const w = new StateWriter();
    w.writeU8(7).writeBool(true).writeU32(300).writeI32(-2).writeU64(0x0123456789abcdef).writeI64(-1000000);
    w.writeF32(1.5).writeF64(-0.25).writeString("hé").writeBytes(Uint8Array.wrap(new ArrayBuffer(2))).writeVariant(3);
    const appear = new Appear(0.6, 0.4);
    appear.play();
    appear.update(2.0);
    appear.save(w);
    new Tween(1.0, 2.0, 3.0, 4.0, Easing.OutBack).save(w);
    w.writeI32(this.events);
    return w.finish();
  }

  restoreState(saved: Uint8Array): string | null {
    const r = StateReader.open(saved);
    const ok = r.readU8() == 7 && r.readBool() && r.readU32() == 300 && r.readI32() == -2 &&
      r.readU64() == 0x0123456789abcdef && r.readI64() == -1000000 && r.readF32() == 1.5 &&
      r.readF64() == -0.25 && r.readString() == "hé" && r.readBytes().length == 2 && r.readVariant() == 3;
    const appear = Appear.load(r);
    const tween = Tween.load(r);
    const events = r.readI32();
    if (r.error !== null) return r.error;
    if (!ok) return "fields differ";
    if (appear.phase != Phase.In || appear.start != 2.0 || appear.inSeconds != 0.6 || appear.outSeconds != 0.4) return "appear differs";
    if (tween.easing !== Easing.OutBack || tween.to != 2.0 || tween.duration != 4.0) return "tween differs";
    if (r.remaining != 0) return "bytes left";
    this.events = events;
    return null;
  }
}

function drawAll(frame: FrameInfo, canvas: Canvas, label: string): void {
  canvas.pop(); // extra pop: ignored
  const tri = new PathBuilder().moveTo(0.0, 0.0).lineTo(100.0, 0.0).lineTo(50.0, 80.0).close().build();
  canvas.fill(tri, Color.hex(0x336699));
  const curve = new PathBuilder().moveTo(0.0, 0.0).quadTo(50.0, -40.0, 100.0, 0.0).cubicTo(120.0, 20.0, 140.0, 20.0, 160.0, 0.0).build();
  canvas.stroke(curve, Color.WHITE.fade(0.5), StrokeStyle.width(4.0).join(LineJoin.Round).cap(LineCap.Square).miter(2.0).dash([10.0, 6.0], 3.0));
  canvas.fillWithRule(Path.circle(10.0, 20.0, 5.0), Paint.linear(0.0, 0.0, 0.0, 200.0, [new Stop(0.0, Color.rgb(1.0, 0.0, 0.0)), new Stop(1.0, Color.BLACK)]), FillRule.EvenOdd);
  canvas.fill(Path.ellipse(0.0, 0.0, 4.0, 2.0), Paint.radial(1.0, 2.0, 120.0, [new Stop(0.5, Color.TRANSPARENT)]));
  canvas.fillRect(new Rect(1.0, 2.0, 3.0, 4.0), Paint.image("logo", Affine.translate(40.0, 41.0), 0.75));
  canvas.fill(Path.roundedRect(new Rect(0.0, 0.0, 100.0, 10.0), 50.0), Paint.solid(Color.rgba(0.1, 0.2, 0.3, 0.4)));
  canvas.fill(Path.rect(new Rect(0.0, 0.0, 1.0, 1.0)), Paint.color(Color.WHITE));
  const size = assetSize("logo");
  if (size !== null) canvas.image("logo", new Rect(0.0, 0.0, <f32>size.width, <f32>size.height), 1.0);
  else canvas.image("no-logo", new Rect(5.0, 6.0, 7.0, 8.0), 0.5);
  canvas.video("camera-2", new Rect(0.0, 0.0, 640.0, 360.0), 1.0);
  const style = new TextStyle(42.0).family("Mono").weight(700).align(TextAlign.Center).paint(Color.hex(0xf2c12e));
  canvas.text(label, 10.0, 20.0, style);
  canvas.text("bad \uD800 surrogate", 0.0, 0.0, style.clone().align(TextAlign.End).maxWidth(600.0));
  canvas.text("measured", style.measure("abcd").width, style.measure("abcd").height, new TextStyle(12.0));
  canvas.push(Group.transform(Affine.scale(2.0, 3.0)).opacity(1.5).blend(BlendMode.Screen));
  canvas.push(new Group().clip(Path.rect(new Rect(0.0, 0.0, 50.0, 60.0))).opacity(-1.0));
  canvas.group(new Group(), label, (c: Canvas, text: string) => {
    c.text(text + "!", 0.0, 0.0, new TextStyle(8.0));
  });
  // two groups left open: closed at the end of the frame
}

function probeEasing(canvas: Canvas): void {
  const style = new TextStyle(1.0);
  const ts: f32[] = [-0.5, 0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 2.0];
  for (let e: u32 = 0; e < 8; e++) {
    const easing = Easing.fromIndex(e)!;
    for (let i = 0; i < ts.length; i++) canvas.text(e.toString() + ":" + ts[i].toString(), easing.apply(ts[i]), 0.0, style);
  }
  canvas.text("lerp", lerp(10.0, 20.0, 0.25), 0.0, style);
  const tw = new Tween(10.0, 20.0, 1.0, 2.0, Easing.InQuad);
  canvas.text("tween", tw.value(2.0), tw.progress(2.0), style);
  canvas.text("done", tw.done(2.9) ? 1.0 : 0.0, tw.done(3.0) ? 1.0 : 0.0, style);
  const zero = new Tween(0.0, 1.0, 5.0, 0.0);
  canvas.text("zero", zero.progress(4.9), zero.progress(5.0), style);
}

function probeAppear(canvas: Canvas): void {
  // the Rust SDK's appear_runs_in_then_out_from_the_tick_after_the_request
  const style = new TextStyle(1.0);
  const a = new Appear(1.0, 0.5);
  canvas.text("a", a.update(0.0), 0.0, style);
  a.play();
  canvas.text("b", a.update(10.0), 0.0, style);
  canvas.text("c", a.update(10.5), 0.0, style);
  canvas.text("d", a.update(11.0), 0.0, style);
  a.stop();
  canvas.text("e", a.update(20.0), 0.0, style);
  canvas.text("f", a.update(20.5), a.isVisible() ? 1.0 : 0.0, style);
  // stop during the in animation jumps to 1, play during out restarts from hidden
  a.play();
  a.update(30.0);
  a.update(30.2);
  a.stop();
  canvas.text("g", a.update(30.3), 0.0, style);
  canvas.text("h", a.update(30.4), 0.0, style);
  a.play();
  canvas.text("i", a.update(30.5), <f32>a.phase, style);
}

function probeAffine(canvas: Canvas): void {
  const style = new TextStyle(1.0);
  const t = Affine.translate(10.0, 20.0).then(Affine.scale(2.0, 3.0)).then(Affine.rotate(0.5));
  canvas.push(Group.transform(t));
  const p = t.apply(1.0, 2.0);
  canvas.text("apply", p.x, p.y, style);
  canvas.push(Group.transform(Affine.identity()));
}

registerScene((): Scene => new TestScene());
