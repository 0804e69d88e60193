// A tiny stand-in for the showrunner host, for tests in Node: loads a core module
// that speaks core-module ABI v1 (wit/core-abi-v1.md), provides the imports the way
// `showrunner ticks` does (text measured at 0.55 em per character, no assets), and
// encodes and decodes every value that crosses. Not a sandbox: no time budget, no
// memory cap, no draw-list validation. Use `showrunner check` / `showrunner ticks`
// for those.

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Function signatures of a module's imports and exports, as "params>results"
 *  with i = i32, I = i64, f = f32, F = f64 (the host's notation). */
export function signatures(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let p = 8;
  const leb = () => {
    let v = 0, shift = 0, byte;
    do {
      byte = b[p++];
      v += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return v;
  };
  const name = () => {
    const n = leb();
    const s = new TextDecoder().decode(b.subarray(p, p + n));
    p += n;
    return s;
  };
  const code = { 0x7f: "i", 0x7e: "I", 0x7d: "f", 0x7c: "F" };
  const types = [], funcs = [], imports = [], exports = [];
  while (p < b.length) {
    const id = b[p++];
    const size = leb();
    const end = p + size;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        p++; // 0x60
        const params = [], results = [];
        for (let k = leb(); k > 0; k--) params.push(code[b[p++]] ?? "?");
        for (let k = leb(); k > 0; k--) results.push(code[b[p++]] ?? "?");
        types.push(params.join("") + ">" + results.join(""));
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        const module = name(), field = name(), kind = b[p++];
        if (kind === 0) {
          const t = leb();
          funcs.push(t);
          imports.push({ module, name: field, kind: "function", type: types[t] });
        } else {
          imports.push({ module, name: field, kind: ["function", "table", "memory", "global"][kind] });
          if (kind === 1) { p++; const f = b[p++]; leb(); if (f & 1) leb(); }
          else if (kind === 2) { const f = b[p++]; leb(); if (f & 1) leb(); }
          else if (kind === 3) p += 2;
        }
      }
    } else if (id === 3) {
      for (let n = leb(); n > 0; n--) funcs.push(leb());
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const field = name(), kind = b[p++], index = leb();
        const e = { name: field, kind: ["function", "table", "memory", "global"][kind] };
        if (kind === 0) e.type = types[funcs[index]];
        exports.push(e);
      }
    }
    p = end;
  }
  return { imports, exports };
}

/** Bytes builder for inputs (little-endian, strings as u32 length + UTF-8). */
class Out {
  constructor() { this.bytes = []; }
  u8(v) { this.bytes.push(v & 0xff); return this; }
  u32(v) { const d = new DataView(new ArrayBuffer(4)); d.setUint32(0, v, true); this.raw(new Uint8Array(d.buffer)); return this; }
  u64(v) { const d = new DataView(new ArrayBuffer(8)); d.setBigUint64(0, BigInt(v), true); this.raw(new Uint8Array(d.buffer)); return this; }
  f32(v) { const d = new DataView(new ArrayBuffer(4)); d.setFloat32(0, v, true); this.raw(new Uint8Array(d.buffer)); return this; }
  f64(v) { const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, v, true); this.raw(new Uint8Array(d.buffer)); return this; }
  str(s) { const e = utf8.encode(s); this.u32(e.length); this.raw(e); return this; }
  raw(a) { for (const x of a) this.bytes.push(x); return this; }
  done() { return Uint8Array.from(this.bytes); }
}

/** Reader for outputs; throws with the byte offset on anything malformed. */
class In {
  constructor(bytes) { this.b = bytes; this.d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength); this.p = 0; }
  need(n) { if (this.p + n > this.b.length) throw new Error(`ends early at byte ${this.p} (need ${n})`); const at = this.p; this.p += n; return at; }
  u8() { return this.b[this.need(1)]; }
  bool() { const v = this.u8(); if (v > 1) throw new Error(`bool ${v} at byte ${this.p - 1}`); return v === 1; }
  u16() { return this.d.getUint16(this.need(2), true); }
  u32() { return this.d.getUint32(this.need(4), true); }
  f32() { return this.d.getFloat32(this.need(4), true); }
  f64() { return this.d.getFloat64(this.need(8), true); }
  str() { const n = this.u32(); const at = this.need(n); return utf8Strict.decode(this.b.subarray(at, at + n)); }
  opt(f) { const t = this.u8(); if (t === 0) return null; if (t === 1) return f(); throw new Error(`option tag ${t} at byte ${this.p - 1}`); }
  list(f) { const n = this.u32(); if (n > this.b.length - this.p) throw new Error(`list of ${n} at byte ${this.p - 4} runs past the end`); const a = []; for (let i = 0; i < n; i++) a.push(f()); return a; }
  enumOf(names) { const v = this.u8(); if (v >= names.length) throw new Error(`enum value ${v} at byte ${this.p - 1}`); return names[v]; }
  end() { if (this.p !== this.b.length) throw new Error(`${this.b.length - this.p} bytes left after byte ${this.p}`); }
}

const BLEND = ["normal", "add", "multiply", "screen"];
const FILL_RULE = ["non-zero", "even-odd"];
const JOIN = ["miter", "round", "bevel"];
const CAP = ["butt", "round", "square"];
const ALIGN = ["start", "center", "end"];

const color = (r) => ({ r: r.f32(), g: r.f32(), b: r.f32(), a: r.f32() });
const affine = (r) => ({ a: r.f32(), b: r.f32(), c: r.f32(), d: r.f32(), e: r.f32(), f: r.f32() });
const rect = (r) => ({ x: r.f32(), y: r.f32(), width: r.f32(), height: r.f32() });
const path = (r) => ({ verbs: r.list(() => r.u8()), points: r.list(() => r.f32()) });
const stops = (r) => r.list(() => ({ offset: r.f32(), color: color(r) }));
function paint(r) {
  const tag = r.u8();
  switch (tag) {
    case 0: return { solid: color(r) };
    case 1: return { linear: { x0: r.f32(), y0: r.f32(), x1: r.f32(), y1: r.f32(), stops: stops(r) } };
    case 2: return { radial: { cx: r.f32(), cy: r.f32(), radius: r.f32(), stops: stops(r) } };
    case 3: return { image: { asset: r.str(), transform: affine(r), opacity: r.f32() } };
  }
  throw new Error(`paint tag ${tag} at byte ${r.p - 1}`);
}

/** Decodes a draw list ("SRDL", version 1, count, ops) into plain objects. */
export function decodeDrawList(bytes) {
  const r = new In(bytes);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  r.need(4);
  if (magic !== "SRDL") throw new Error(`bad magic ${JSON.stringify(magic)}`);
  const version = r.u8();
  if (version !== 1) throw new Error(`draw-list version ${version}`);
  const count = r.u32();
  const ops = [];
  for (let i = 0; i < count; i++) {
    const tag = r.u8();
    switch (tag) {
      case 0: ops.push({ op: "push", transform: affine(r), opacity: r.f32(), clip: r.opt(() => path(r)), blend: r.enumOf(BLEND) }); break;
      case 1: ops.push({ op: "pop" }); break;
      case 2: ops.push({ op: "fill", path: path(r), paint: paint(r), rule: r.enumOf(FILL_RULE) }); break;
      case 3: ops.push({ op: "stroke", path: path(r), paint: paint(r), width: r.f32(), join: r.enumOf(JOIN), cap: r.enumOf(CAP), miterLimit: r.f32(), dash: r.list(() => r.f32()), dashOffset: r.f32() }); break;
      case 4: ops.push({ op: "text", text: r.str(), family: r.str(), weight: r.u16(), size: r.f32(), x: r.f32(), y: r.f32(), align: r.enumOf(ALIGN), paint: paint(r), maxWidth: r.opt(() => r.f32()) }); break;
      case 5: ops.push({ op: "image", asset: r.str(), dest: rect(r), opacity: r.f32() }); break;
      case 6: ops.push({ op: "video", input: r.str(), dest: rect(r), opacity: r.f32() }); break;
      default: throw new Error(`unknown op tag ${tag} at byte ${r.p - 1}`);
    }
  }
  r.end();
  return ops;
}

function propValue(r) {
  const tag = r.u8();
  switch (tag) {
    case 0: return { flag: r.bool() };
    case 1: return { number: r.f64() };
    case 2: return { text: r.str() };
    case 3: return { color: color(r) };
    case 4: return { asset: r.str() };
  }
  throw new Error(`prop-value tag ${tag} at byte ${r.p - 1}`);
}

/** Decodes `module-info`. */
export function decodeModuleInfo(bytes) {
  const r = new In(bytes);
  const info = {
    name: r.str(),
    version: r.str(),
    props: r.list(() => ({ name: r.str(), label: r.str(), default: propValue(r), min: r.opt(() => r.f64()), max: r.opt(() => r.f64()) })),
  };
  r.end();
  return info;
}

/** Decodes `result`: null for ok, else the error string. */
export function decodeResult(bytes) {
  const r = new In(bytes);
  const tag = r.u8();
  const out = tag === 0 ? null : tag === 1 ? r.str() : (() => { throw new Error(`result tag ${tag}`); })();
  r.end();
  return out;
}

/** Encodes `props` from [{ name, value: { flag | number | text | color | asset } }]. */
export function encodeProps(props) {
  const o = new Out().u32(props.length);
  for (const { name, value } of props) {
    o.str(name);
    if ("flag" in value) o.u8(0).u8(value.flag ? 1 : 0);
    else if ("number" in value) o.u8(1).f64(value.number);
    else if ("text" in value) o.u8(2).str(value.text);
    else if ("color" in value) o.u8(3).f32(value.color.r).f32(value.color.g).f32(value.color.b).f32(value.color.a);
    else if ("asset" in value) o.u8(4).str(value.asset);
    else throw new Error(`prop ${name}: unknown value ${JSON.stringify(value)}`);
  }
  return o.done();
}

export function encodeEvent(name, payload = "") {
  return new Out().str(name).str(payload).done();
}

/** `frame-info` for frame `index`, timed as the host does: index · den / num. */
export function encodeFrame(index, width = 1920, height = 1080, fpsNum = 30, fpsDen = 1) {
  return new Out().u64(index).f64((index * fpsDen) / fpsNum).u32(width).u32(height).u32(fpsNum).u32(fpsDen).done();
}

/** An AssemblyScript string in guest memory (UTF-16, byte length before it). */
function asString(memory, ptr) {
  if (!ptr) return "";
  const len = new DataView(memory.buffer).getUint32(ptr - 4, true);
  return String.fromCharCode(...new Uint16Array(memory.buffer.slice(ptr, ptr + len)));
}

/** One instance of a core-ABI scene module with the `ticks` host's services. */
export class CoreScene {
  /** `options`: measureText(text, family, size) → [w, h]; assetSize(name) → [w, h] | null; seed. */
  constructor(bytes, options = {}) {
    const measure = options.measureText ?? ((text, _family, size) => [Math.fround(Math.fround([...text].length * size) * Math.fround(0.55)), Math.fround(size * Math.fround(1.2))]);
    const assetSize = options.assetSize ?? (() => null);
    this.logs = [];
    this.measureCalls = 0;
    const self = this;
    const str = (ptr, len) => utf8Strict.decode(new Uint8Array(self.memory.buffer, ptr, len));
    const imports = {
      showrunner: {
        log(level, ptr, len) { self.logs.push({ level, message: str(ptr, len) }); },
        asset_size(ptr, len, out) {
          const size = assetSize(str(ptr, len));
          if (!size) return 0;
          const d = new DataView(self.memory.buffer);
          d.setUint32(out, size[0], true);
          d.setUint32(out + 4, size[1], true);
          return 1;
        },
        measure_text(tp, tl, fp, fl, size, out) {
          self.measureCalls++;
          const [w, h] = measure(str(tp, tl), str(fp, fl), size);
          const d = new DataView(self.memory.buffer);
          d.setFloat32(out, w, true);
          d.setFloat32(out + 4, h, true);
        },
      },
      env: {
        abort(msg, file, line, column) {
          throw new Error(`abort: ${asString(self.memory, msg)} at ${asString(self.memory, file)}:${line}:${column}`);
        },
        seed: () => options.seed ?? 42,
      },
    };
    this.instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
    this.x = this.instance.exports;
    this.memory = this.x.memory;
    if (this.x.sr_abi_version() !== 1) throw new Error(`ABI version ${this.x.sr_abi_version()}`);
  }

  input(bytes) {
    const ptr = this.x.sr_alloc(bytes.length);
    new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr, bytes.length];
  }

  output(len) {
    if (len < 0) throw new Error(`negative output length ${len}`);
    const ptr = this.x.sr_output();
    return new Uint8Array(this.memory.buffer.slice(ptr, ptr + len));
  }

  describe() { return decodeModuleInfo(this.output(this.x.sr_describe())); }
  /** props: [{ name, value }]; returns null or the error. */
  init(props = []) { return decodeResult(this.output(this.x.sr_init(...this.input(encodeProps(props))))); }
  setProps(props) { this.x.sr_set_props(...this.input(encodeProps(props))); }
  onEvent(name, payload = "") { this.x.sr_on_event(...this.input(encodeEvent(name, payload))); }
  /** The frame's draw-list bytes. */
  tickBytes(index, width, height, fpsNum, fpsDen) { return this.output(this.x.sr_tick(...this.input(encodeFrame(index, width, height, fpsNum, fpsDen)))); }
  /** The frame's ops, decoded. */
  tick(index, width, height, fpsNum, fpsDen) { return decodeDrawList(this.tickBytes(index, width, height, fpsNum, fpsDen)); }
  saveState() { return this.output(this.x.sr_save_state()); }
  restoreState(bytes) { return decodeResult(this.output(this.x.sr_restore_state(...this.input(bytes)))); }
  /** Bytes of linear memory now. */
  get memoryBytes() { return this.memory.buffer.byteLength; }
}
