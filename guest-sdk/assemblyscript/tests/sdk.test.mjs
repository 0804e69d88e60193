// Tests of @showrunner/guest against the ABI: build the test scene first
// (`npm test` does), then this runs it through harness/ in Node.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CoreScene, signatures } from "../harness/index.mjs";

const wasm = readFileSync(new URL("./build/test_scene.wasm", import.meta.url));
const f = Math.fround;

function started(options) {
  const s = new CoreScene(wasm, options);
  assert.equal(s.init([]), null);
  s.logs.length = 0;
  return s;
}

function probe(scene, name, index = 1) {
  scene.onEvent(name);
  return scene.tick(index);
}

test("exports exactly the ABI and imports only what the host provides", () => {
  const { imports, exports } = signatures(wasm);
  assert.deepEqual(
    exports.map((e) => `${e.name}:${e.type ?? e.kind}`).sort(),
    [
      "memory:memory",
      "sr_abi_version:>i",
      "sr_alloc:i>i",
      "sr_describe:>i",
      "sr_init:ii>i",
      "sr_on_event:ii>",
      "sr_output:>i",
      "sr_restore_state:ii>i",
      "sr_save_state:>i",
      "sr_set_props:ii>",
      "sr_tick:ii>i",
    ],
  );
  const allowed = {
    "showrunner.log": "iii>",
    "showrunner.asset_size": "iii>i",
    "showrunner.measure_text": "iiiifi>",
    "env.abort": "iiii>",
    "env.seed": ">F",
  };
  for (const i of imports) assert.equal(allowed[`${i.module}.${i.name}`], i.type, `${i.module}.${i.name}`);
});

test("describe encodes module-info", () => {
  const s = new CoreScene(wasm);
  assert.deepEqual(s.describe(), {
    name: "SDK test",
    version: "9.8.7",
    props: [
      { name: "label", label: "Label", default: { text: "hello" }, min: null, max: null },
      { name: "speed", label: "Speed", default: { number: 160 }, min: 10, max: 2000 },
      { name: "tint", label: "Tint", default: { color: { r: f(0x33 / 255), g: f(0x66 / 255), b: f(0x99 / 255), a: 1 } }, min: null, max: null },
      { name: "fail", label: "Fail init", default: { flag: false }, min: null, max: null },
      { name: "logo", label: "Logo", default: { asset: "default-logo" }, min: null, max: null },
    ],
  });
});

test("init gets defaults merged with the given props, set_props every current value", () => {
  const s = new CoreScene(wasm);
  assert.equal(s.init([{ name: "speed", value: { number: 500 } }]), null);
  assert.deepEqual(s.logs, [{ level: 2, message: "props label=hello speed=500.0 logo=default-logo tint.r=0.2 missing=7.0 count=5" }]);
  s.logs.length = 0;
  s.setProps([{ name: "label", value: { text: "Ada" } }, { name: "logo", value: { asset: "other" } }]);
  assert.deepEqual(s.logs, [{ level: 2, message: "props label=Ada speed=500.0 logo=other tint.r=0.2 missing=7.0 count=5" }]);
});

test("an init error is a result error, and the scene stays uninitialised", () => {
  const s = new CoreScene(wasm);
  assert.equal(s.init([{ name: "fail", value: { flag: true } }]), "init refused: fail is set");
  assert.deepEqual(s.tick(0), []);
  assert.equal(s.restoreState(new Uint8Array([1])), "restore-state called before init");
  assert.equal(s.saveState().length, 0);
});

test("every draw op is encoded as the ABI says", () => {
  const s = started({ assetSize: (name) => (name === "logo" ? [640, 360] : null) });
  const ops = probe(s, "ops");
  const white = { r: 1, g: 1, b: 1, a: 1 };
  const gold = { r: f(0xf2 / 255), g: f(0xc1 / 255), b: f(0x2e / 255), a: 1 };
  const k = f(0.5522848);
  assert.equal(ops.length, 19);
  assert.deepEqual(ops[0], { op: "fill", path: { verbs: [0, 1, 1, 4], points: [0, 0, 100, 0, 50, 80] }, paint: { solid: { r: f(0x33 / 255), g: f(0x66 / 255), b: f(0x99 / 255), a: 1 } }, rule: "non-zero" });
  assert.deepEqual(ops[1], {
    op: "stroke",
    path: { verbs: [0, 2, 3], points: [0, 0, 50, -40, 100, 0, 120, 20, 140, 20, 160, 0] },
    paint: { solid: { ...white, a: 0.5 } },
    width: 4,
    join: "round",
    cap: "square",
    miterLimit: 2,
    dash: [10, 6],
    dashOffset: 3,
  });
  assert.equal(ops[2].rule, "even-odd");
  assert.deepEqual(ops[2].paint, { linear: { x0: 0, y0: 0, x1: 0, y1: 200, stops: [{ offset: 0, color: { r: 1, g: 0, b: 0, a: 1 } }, { offset: 1, color: { r: 0, g: 0, b: 0, a: 1 } }] } });
  assert.deepEqual(ops[2].path.verbs, [0, 3, 3, 3, 3, 4]);
  assert.deepEqual(ops[2].path.points.slice(0, 8), [15, 20, 15, f(20 + f(5 * k)), f(10 + f(5 * k)), 25, 10, 25]);
  assert.deepEqual(ops[3].paint, { radial: { cx: 1, cy: 2, radius: 120, stops: [{ offset: 0.5, color: { r: 0, g: 0, b: 0, a: 0 } }] } });
  assert.deepEqual(ops[3].path.points.slice(0, 2), [4, 0]);
  assert.deepEqual(ops[4], { op: "fill", path: { verbs: [0, 1, 1, 1, 4], points: [1, 2, 4, 2, 4, 6, 1, 6] }, paint: { image: { asset: "logo", transform: { a: 1, b: 0, c: 0, d: 1, e: 40, f: 41 }, opacity: 0.75 } }, rule: "non-zero" });
  // rounded rect: radius clamped to half the short side (5)
  assert.ok(Math.max(...ops[5].path.points.filter((_, i) => i % 2 === 1)) <= 10);
  assert.deepEqual(ops[5].path.points.slice(0, 4), [5, 0, 95, 0]);
  assert.deepEqual(ops[5].paint, { solid: { r: f(0.1), g: f(0.2), b: f(0.3), a: f(0.4) } });
  assert.deepEqual(ops[6].paint, { solid: white });
  assert.deepEqual(ops[7], { op: "image", asset: "logo", dest: { x: 0, y: 0, width: 640, height: 360 }, opacity: 1 });
  assert.deepEqual(ops[8], { op: "video", input: "camera-2", dest: { x: 0, y: 0, width: 640, height: 360 }, opacity: 1 });
  assert.deepEqual(ops[9], { op: "text", text: "hello", family: "Mono", weight: 700, size: 42, x: 10, y: 20, align: "center", paint: { solid: gold }, maxWidth: null });
  assert.deepEqual(ops[10], { op: "text", text: "bad \uFFFD surrogate", family: "Mono", weight: 700, size: 42, x: 0, y: 0, align: "end", paint: { solid: gold }, maxWidth: 600 });
  assert.deepEqual([ops[11].x, ops[11].y], [f(f(4 * 42) * f(0.55)), f(42 * f(1.2))], "measure_text result");
  assert.equal(s.measureCalls, 2);
  assert.deepEqual(ops[12], { op: "push", transform: { a: 2, b: 0, c: 0, d: 3, e: 0, f: 0 }, opacity: 1, clip: null, blend: "screen" });
  assert.deepEqual(ops[13], { op: "push", transform: { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 }, opacity: 0, clip: { verbs: [0, 1, 1, 1, 4], points: [0, 0, 50, 0, 50, 60, 0, 60] }, blend: "normal" });
  // group(): push, the body's text, pop; then the two groups left open are closed
  assert.deepEqual(ops.slice(14).map((o) => o.op + (o.text ? `:${o.text}` : "")), ["push", "text:hello!", "pop", "pop", "pop"]);
  assert.deepEqual(s.tick(2), [], "nothing requested: an empty frame");
});

test("groups left open are closed at the end of the frame; an extra pop is ignored", () => {
  const s = started();
  const ops = probe(s, "ops");
  let depth = 0;
  for (const o of ops) {
    depth += o.op === "push" ? 1 : o.op === "pop" ? -1 : 0;
    assert.ok(depth >= 0, "no pop without a push");
  }
  assert.equal(depth, 0);
  assert.equal(ops.filter((o) => o.op === "push").length, 3);
  assert.deepEqual(Array.from(s.tickBytes(3)), [0x53, 0x52, 0x44, 0x4c, 1, 0, 0, 0, 0], "an empty frame is just the header");
});

function easeRef(e, t) {
  t = f(t);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  switch (e) {
    case 0: return t;
    case 1: return f(t * t);
    case 2: return f(1 - f(f(1 - t) * f(1 - t)));
    case 3: { if (t < 0.5) return f(f(2 * t) * t); const u = f(f(-2 * t) + 2); return f(1 - f(f(u * u) / 2)); }
    case 4: return f(f(t * t) * t);
    case 5: { const u = f(1 - t); return f(1 - f(f(u * u) * u)); }
    case 6: { if (t < 0.5) return f(f(f(4 * t) * t) * t); const u = f(f(-2 * t) + 2); return f(1 - f(f(f(u * u) * u) / 2)); }
    case 7: { const c1 = f(1.70158), c3 = f(c1 + 1), u = f(t - 1); return f(f(1 + f(c3 * f(f(u * u) * u))) + f(c1 * f(u * u))); }
  }
}

test("easings, lerp and tweens compute what the Rust SDK computes, bit for bit", () => {
  const ops = probe(started(), "easing");
  const ts = [-0.5, 0, 0.1, 0.3, 0.5, 0.7, 0.9, 1, 2];
  let i = 0;
  for (let e = 0; e < 8; e++) for (const t of ts) assert.equal(ops[i++].x, easeRef(e, t), `easing ${e} at ${t}`);
  for (let e = 0; e < 8; e++) {
    assert.ok(Math.abs(easeRef(e, 0)) < 1e-5 && Math.abs(easeRef(e, 1) - 1) < 1e-5);
  }
  const rest = Object.fromEntries(ops.slice(i).map((o) => [o.text, [o.x, o.y]]));
  assert.deepEqual(rest.lerp, [12.5, 0]);
  assert.deepEqual(rest.tween, [f(10 + f(10 * f(0.5 * 0.5))), 0.5]);
  assert.deepEqual(rest.done, [0, 1]);
  assert.deepEqual(rest.zero, [0, 1]);
});

test("Appear runs in, then out, from the tick after the request", () => {
  const ops = probe(started(), "appear");
  const v = Object.fromEntries(ops.map((o) => [o.text, [o.x, o.y]]));
  assert.deepEqual(v.a, [0, 0]);
  assert.deepEqual(v.b, [0, 0]);
  assert.ok(Math.abs(v.c[0] - 0.5) < 1e-6);
  assert.deepEqual(v.d, [1, 0]);
  assert.deepEqual(v.e, [1, 0]);
  assert.deepEqual(v.f, [0, 0], "hidden and not visible after the out animation");
  assert.deepEqual(v.g, [1, 0], "stop during the in animation jumps to 1");
  assert.equal(v.h[0], f(1 - f((30.4 - 30.3) / 0.5)));
  assert.deepEqual(v.i, [0, 2], "play during the out animation restarts from hidden (phase In)");
});

test("Affine.then applies the first transform first", () => {
  const ops = probe(started(), "affine");
  const s = Math.sin(0.5), c = Math.cos(0.5);
  // translate(10, 20), then scale(2, 3), then rotate(0.5)
  const want = { a: 2 * c, b: 2 * s, c: -3 * s, d: 3 * c, e: 20 * c - 60 * s, f: 20 * s + 60 * c };
  for (const k of Object.keys(want)) assert.ok(Math.abs(ops[0].transform[k] - want[k]) < 1e-4, `${k}: ${ops[0].transform[k]} vs ${want[k]}`);
  const x = 1 * 2 + 20, y = 2 * 3 + 60;
  assert.ok(Math.abs(ops[1].x - (x * c - y * s)) < 1e-4 && Math.abs(ops[1].y - (x * s + y * c)) < 1e-4);
  assert.deepEqual(ops[2].transform, { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 });
});

test("frame-info and events arrive decoded", () => {
  const s = started();
  s.onEvent("frame", "payload ✓");
  assert.deepEqual(s.logs, [{ level: 1, message: "event frame payload ✓" }]);
  const ops = s.tick(7, 1280, 720, 30000, 1001);
  assert.deepEqual(ops.map((o) => [o.text, o.x, o.y]), [["7", f((7 * 1001) / 30000), 1280], ["30000/1001", 720, 0]]);
  assert.equal(probe(s, "events")[0].text, "2");
});

test("saved state is postcard-compatible, restores, and rejects what it cannot read", () => {
  const s = started();
  const saved = s.saveState();
  const hex = Buffer.from(saved).toString("hex");
  const f64 = (v) => { const b = Buffer.alloc(8); b.writeDoubleLE(v); return b.toString("hex"); };
  const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); return b.toString("hex"); };
  const varint = (v) => { v = BigInt(v); let out = ""; while (v >= 0x80n) { out += ((v & 0x7fn) | 0x80n).toString(16).padStart(2, "0"); v >>= 7n; } return out + v.toString(16).padStart(2, "0"); };
  const want =
    "01" + "07" + "01" + varint(300) + varint(3) + varint(0x0123456789abcdefn) + varint(1999999) +
    f32(1.5) + f64(-0.25) + "03" + "68c3a9" + "02" + "0000" + "03" +
    "02" + f64(2) + f64(0.6) + f64(0.4) +
    f32(1) + f32(2) + f64(3) + f64(4) + "07" +
    varint(0);
  assert.equal(hex, want);
  assert.equal(s.restoreState(saved), null);
  assert.equal(s.restoreState(new Uint8Array()), "no saved state");
  assert.equal(s.restoreState(new Uint8Array([9, 1])), "saved state has unknown format 9");
  assert.equal(s.restoreState(saved.subarray(0, 20)), "saved state does not decode: Hit the end of buffer, expected more data");
  const badPhase = Uint8Array.from(saved);
  badPhase[want.indexOf("02" + f64(2)) / 2] = 9;
  assert.equal(s.restoreState(badPhase), "saved state does not decode: unknown appear phase 9");
});

test("abort carries its message out", () => {
  const s = started();
  assert.throws(() => s.onEvent("crash", "payload"), /abort: boom: payload/);
});

test("memory stays flat over many frames (the GC reclaims per-frame garbage)", () => {
  const s = started();
  for (let i = 0; i < 500; i++) { probe(s, "ops", i); probe(s, "garbage", i); }
  const after500 = s.memoryBytes;
  for (let i = 0; i < 3000; i++) { probe(s, "ops", i); probe(s, "garbage", i); }
  assert.equal(s.memoryBytes, after500);
  assert.ok(after500 <= 1 << 20, `${after500} bytes`);
});
