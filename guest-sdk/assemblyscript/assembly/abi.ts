// The wire layer of core-module ABI v1 (wit/core-abi-v1.md): a growable
// little-endian byte buffer to encode into, and a bounds-checked reader to decode
// from. Strings cross as a u32 byte length followed by UTF-8.
//
// Not part of the author-facing API (scenes never see bytes), but exported from
// the package for SDK extensions and tests.

/** A growable little-endian byte buffer backed by one managed ArrayBuffer. */
export class Writer {
  private buf: ArrayBuffer;
  /** Bytes written so far. */
  length: i32 = 0;

  constructor(capacity: i32 = 256) {
    this.buf = new ArrayBuffer(max(capacity, 16));
  }

  /** Address of the first byte; changes when the buffer grows. */
  get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  reset(): void {
    this.length = 0;
  }

  /** Reserves `n` bytes at the end and returns their address. */
  reserve(n: i32): usize {
    const need = this.length + n;
    if (n < 0 || need < 0) abort("showrunner: output too large");
    if (need > this.buf.byteLength) {
      let cap = this.buf.byteLength;
      while (cap < need) cap = cap < 0x40000000 ? cap << 1 : need;
      const grown = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(grown), changetype<usize>(this.buf), <usize>this.length);
      this.buf = grown;
    }
    const at = changetype<usize>(this.buf) + <usize>this.length;
    this.length = need;
    return at;
  }

  writeU8(v: u8): void {
    store<u8>(this.reserve(1), v);
  }
  writeBool(v: bool): void {
    store<u8>(this.reserve(1), v ? 1 : 0);
  }
  writeU16(v: u16): void {
    store<u16>(this.reserve(2), v);
  }
  writeU32(v: u32): void {
    store<u32>(this.reserve(4), v);
  }
  writeU64(v: u64): void {
    store<u64>(this.reserve(8), v);
  }
  writeF32(v: f32): void {
    store<f32>(this.reserve(4), v);
  }
  writeF64(v: f64): void {
    store<f64>(this.reserve(8), v);
  }

  /** Overwrites a u32 written earlier at byte offset `at`. */
  patchU32(at: i32, v: u32): void {
    store<u32>(changetype<usize>(this.buf) + <usize>at, v);
  }

  /** `n` raw bytes from `src`. */
  writeRaw(src: usize, n: i32): void {
    memory.copy(this.reserve(n), src, <usize>n);
  }

  /** UTF-8 bytes of `s` with no length prefix; returns how many. Lone surrogates
   *  become U+FFFD, so the output is always valid UTF-8. */
  writeUtf8(s: string): i32 {
    const n = String.UTF8.byteLength(s);
    const at = this.reserve(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, at, false, String.UTF8.ErrorMode.REPLACE);
    return n;
  }

  /** `string`: u32 byte length, then UTF-8. */
  writeString(s: string): void {
    this.writeU32(<u32>String.UTF8.byteLength(s));
    this.writeUtf8(s);
  }

  /** `bytes`: u32 length, then the bytes. */
  writeBytes(bytes: Uint8Array): void {
    this.writeU32(<u32>bytes.length);
    this.writeRaw(bytes.dataStart, bytes.length);
  }

  /** `list<u8>`. */
  writeU8List(values: Array<u8>): void {
    this.writeU32(<u32>values.length);
    this.writeRaw(values.dataStart, values.length);
  }

  /** `list<f32>` (f32 is little-endian in Wasm memory, so this is one copy). */
  writeF32List(values: Array<f32>): void {
    this.writeU32(<u32>values.length);
    this.writeRaw(values.dataStart, values.length << 2);
  }

  /** A copy of what was written. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    memory.copy(out.dataStart, changetype<usize>(this.buf), <usize>this.length);
    return out;
  }
}

/** A bounds-checked little-endian reader over `len` bytes at `ptr`. Input comes
 *  from the host, which encodes it correctly; a malformed input traps. */
export class Reader {
  private pos: usize;
  private end: usize;

  constructor(ptr: usize, len: i32) {
    if (len < 0) abort("showrunner: negative input length");
    this.pos = ptr;
    this.end = ptr + <usize>len;
  }

  /** Bytes not read yet. */
  get remaining(): i32 {
    return <i32>(this.end - this.pos);
  }

  private take(n: usize): usize {
    if (n > this.end - this.pos) abort("showrunner: input ends early");
    const at = this.pos;
    this.pos += n;
    return at;
  }

  readU8(): u8 {
    return load<u8>(this.take(1));
  }
  readBool(): bool {
    const b = this.readU8();
    if (b > 1) abort("showrunner: bool is not 0 or 1");
    return b == 1;
  }
  readU16(): u16 {
    return load<u16>(this.take(2));
  }
  readU32(): u32 {
    return load<u32>(this.take(4));
  }
  readU64(): u64 {
    return load<u64>(this.take(8));
  }
  readF32(): f32 {
    return load<f32>(this.take(4));
  }
  readF64(): f64 {
    return load<f64>(this.take(8));
  }

  /** A count of items that take at least `minSize` bytes each, checked against
   *  what is left before anything is allocated. */
  readCount(minSize: i32): i32 {
    const n = this.readU32();
    if (<u64>n * <u64>max(minSize, 1) > <u64>(this.end - this.pos)) abort("showrunner: count runs past the input");
    return <i32>n;
  }

  readString(): string {
    const n = this.readCount(1);
    return String.UTF8.decodeUnsafe(this.take(<usize>n), <usize>n);
  }

  readBytes(): Uint8Array {
    const n = this.readCount(1);
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.take(<usize>n), <usize>n);
    return out;
  }

  /** The rest of the input, copied. */
  readRest(): Uint8Array {
    const n = this.remaining;
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.take(<usize>n), <usize>n);
    return out;
  }
}
