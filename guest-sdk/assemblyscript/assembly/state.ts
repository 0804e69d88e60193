// Saved state for hot-swap and fault recovery: a leading format byte (1), then the
// fields in the order the scene writes them.
//
// The field encoding is postcard's (what the Rust SDK's `state` module uses):
// unsigned integers wider than a byte as LEB128 varints, signed ones zig-zagged
// first, floats as little-endian IEEE 754, bool as one byte, strings and byte
// strings as a varint length and the bytes, enum cases as a varint index. So a
// Rust scene and an AssemblyScript scene that write the same fields in the same
// order can restore each other's state.

/** Format byte in front of saved state (the same as the Rust SDK's). */
export const STATE_FORMAT: u8 = 1;

/** Builds saved state: `const w = new StateWriter(); w.writeU32(score); return w.finish();` */
export class StateWriter {
  private bytes: Array<u8> = [];

  constructor() {
    this.bytes.push(STATE_FORMAT);
  }

  writeU8(v: u8): StateWriter {
    this.bytes.push(v);
    return this;
  }

  writeBool(v: bool): StateWriter {
    this.bytes.push(v ? 1 : 0);
    return this;
  }

  /** u16, u32 or an enum index: a varint. */
  writeU32(v: u32): StateWriter {
    return this.writeU64(<u64>v);
  }

  writeU64(v: u64): StateWriter {
    while (v >= 0x80) {
      this.bytes.push(<u8>(v & 0x7f) | 0x80);
      v >>= 7;
    }
    this.bytes.push(<u8>v);
    return this;
  }

  /** i16, i32: zig-zag, then a varint. */
  writeI32(v: i32): StateWriter {
    return this.writeU64(<u64>(<u32>((v << 1) ^ (v >> 31))));
  }

  writeI64(v: i64): StateWriter {
    return this.writeU64(<u64>((v << 1) ^ (v >> 63)));
  }

  writeF32(v: f32): StateWriter {
    const bits = reinterpret<u32>(v);
    for (let i = 0; i < 32; i += 8) this.bytes.push(<u8>(bits >> i));
    return this;
  }

  writeF64(v: f64): StateWriter {
    const bits = reinterpret<u64>(v);
    for (let i: u64 = 0; i < 64; i += 8) this.bytes.push(<u8>(bits >> i));
    return this;
  }

  writeString(s: string): StateWriter {
    const utf8 = Uint8Array.wrap(String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE));
    return this.writeBytes(utf8);
  }

  writeBytes(b: Uint8Array): StateWriter {
    this.writeU32(<u32>b.length);
    for (let i = 0; i < b.length; i++) this.bytes.push(unchecked(b[i]));
    return this;
  }

  /** The index of an enum case (as serde/postcard write it). */
  writeVariant(index: u32): StateWriter {
    return this.writeU32(index);
  }

  /** The saved bytes, format byte first. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.bytes.length);
    memory.copy(out.dataStart, this.bytes.dataStart, <usize>this.bytes.length);
    return out;
  }
}

/** Reads saved state. Reading past the end or a malformed value does not trap: it
 *  sets `error` (the first problem only) and returns zeros, so check `error` once
 *  at the end and return it from `restoreState`. */
export class StateReader {
  /** Why the state does not load, or null. */
  error: string | null = null;
  private pos: i32 = 0;

  private constructor(private bytes: Uint8Array) {}

  /** Checks the format byte; `error` says why the bytes cannot be read:
   *  "no saved state" for empty input, "saved state has unknown format N". */
  static open(bytes: Uint8Array): StateReader {
    const r = new StateReader(bytes);
    if (bytes.length == 0) r.error = "no saved state";
    else if (bytes[0] != STATE_FORMAT) r.error = "saved state has unknown format " + bytes[0].toString();
    else r.pos = 1;
    if (r.error !== null) r.pos = bytes.length;
    return r;
  }

  /** Records a problem (the first one wins). */
  fail(why: string): void {
    if (this.error === null) this.error = "saved state does not decode: " + why;
    this.pos = this.bytes.length;
  }

  /** Bytes not read yet. */
  get remaining(): i32 {
    return this.bytes.length - this.pos;
  }

  readU8(): u8 {
    if (this.pos >= this.bytes.length) {
      this.fail("Hit the end of buffer, expected more data");
      return 0;
    }
    return unchecked(this.bytes[this.pos++]);
  }

  readBool(): bool {
    const b = this.readU8();
    if (b > 1) this.fail("Found a bool that wasn't 0 or 1");
    return b == 1;
  }

  readU32(): u32 {
    const v = this.readU64();
    if (v > <u64>u32.MAX_VALUE) {
      this.fail("Found a varint that didn't terminate. Is the usize too big for this platform?");
      return 0;
    }
    return <u32>v;
  }

  readU64(): u64 {
    let v: u64 = 0;
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      const b = this.readU8();
      if (this.error !== null) return 0;
      v |= <u64>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    this.fail("Found a varint that didn't terminate. Is the usize too big for this platform?");
    return 0;
  }

  readI32(): i32 {
    const z = this.readU32();
    return <i32>(z >>> 1) ^ -<i32>(z & 1);
  }

  readI64(): i64 {
    const z = this.readU64();
    return <i64>(z >>> 1) ^ -<i64>(z & 1);
  }

  readF32(): f32 {
    let bits: u32 = 0;
    for (let i = 0; i < 32; i += 8) bits |= <u32>this.readU8() << i;
    return reinterpret<f32>(bits);
  }

  readF64(): f64 {
    let bits: u64 = 0;
    for (let i: u64 = 0; i < 64; i += 8) bits |= <u64>this.readU8() << i;
    return reinterpret<f64>(bits);
  }

  readBytes(): Uint8Array {
    const n = this.readU32();
    if (<i64>n > <i64>this.remaining) {
      this.fail("Hit the end of buffer, expected more data");
      return new Uint8Array(0);
    }
    const out = this.bytes.slice(this.pos, this.pos + <i32>n);
    this.pos += <i32>n;
    return out;
  }

  readString(): string {
    const b = this.readBytes();
    return String.UTF8.decodeUnsafe(b.dataStart, <usize>b.length);
  }

  /** The index of an enum case. */
  readVariant(): u32 {
    return this.readU32();
  }
}
