// Properties: PropSpec builds the specs for describe(), Props reads the current
// values with the specs' defaults already filled in; ModuleInfo is what describe()
// returns.

import { Reader, Writer } from "./abi";
import { Color } from "./geometry";

/** The case of a `PropValue`, in WIT order. */
export enum PropKind {
  Flag = 0,
  Number = 1,
  Text = 2,
  Color = 3,
  Asset = 4,
}

/** The value of one property: a flag, a number, text, a colour or an asset name. */
export class PropValue {
  /** Which case this is; read the matching field. */
  kind: PropKind = PropKind.Flag;
  asFlag: bool = false;
  asNumber: f64 = 0.0;
  /** Text of a `Text` value, asset name of an `Asset` value. */
  asText: string = "";
  asColor: Color = Color.BLACK;

  static flag(value: bool): PropValue {
    const v = new PropValue();
    v.kind = PropKind.Flag;
    v.asFlag = value;
    return v;
  }

  static number(value: f64): PropValue {
    const v = new PropValue();
    v.kind = PropKind.Number;
    v.asNumber = value;
    return v;
  }

  static text(value: string): PropValue {
    const v = new PropValue();
    v.kind = PropKind.Text;
    v.asText = value;
    return v;
  }

  static color(value: Color): PropValue {
    const v = new PropValue();
    v.kind = PropKind.Color;
    v.asColor = value;
    return v;
  }

  static asset(name: string): PropValue {
    const v = new PropValue();
    v.kind = PropKind.Asset;
    v.asText = name;
    return v;
  }

  encode(out: Writer): void {
    out.writeU8(<u8>this.kind);
    switch (this.kind) {
      case PropKind.Flag:
        out.writeBool(this.asFlag);
        break;
      case PropKind.Number:
        out.writeF64(this.asNumber);
        break;
      case PropKind.Color:
        this.asColor.encodeColor(out);
        break;
      default:
        out.writeString(this.asText);
    }
  }

  static decode(r: Reader): PropValue {
    const tag = <i32>r.readU8();
    switch (tag) {
      case PropKind.Flag:
        return PropValue.flag(r.readBool());
      case PropKind.Number:
        return PropValue.number(r.readF64());
      case PropKind.Text:
        return PropValue.text(r.readString());
      case PropKind.Color: {
        const red = r.readF32();
        const green = r.readF32();
        const blue = r.readF32();
        const alpha = r.readF32();
        return PropValue.color(new Color(red, green, blue, alpha));
      }
      case PropKind.Asset:
        return PropValue.asset(r.readString());
    }
    abort("showrunner: unknown prop-value tag");
    return PropValue.flag(false);
  }
}

/** A named property value. */
export class Prop {
  constructor(
    public name: string,
    public value: PropValue,
  ) {}
}

/** Describes one property: machine name (kebab-case), label for forms, default
 *  value (its case fixes the type) and, for numbers, optional bounds. */
export class PropSpec {
  hasMin: bool = false;
  minValue: f64 = 0.0;
  hasMax: bool = false;
  maxValue: f64 = 0.0;

  constructor(
    public name: string,
    public label: string,
    public defaultValue: PropValue,
  ) {}

  static text(name: string, label: string, value: string): PropSpec {
    return new PropSpec(name, label, PropValue.text(value));
  }

  static number(name: string, label: string, value: f64): PropSpec {
    return new PropSpec(name, label, PropValue.number(value));
  }

  static color(name: string, label: string, value: Color): PropSpec {
    return new PropSpec(name, label, PropValue.color(value));
  }

  static flag(name: string, label: string, value: bool): PropSpec {
    return new PropSpec(name, label, PropValue.flag(value));
  }

  static asset(name: string, label: string, value: string): PropSpec {
    return new PropSpec(name, label, PropValue.asset(value));
  }

  /** Bounds a number property (the host enforces it). */
  range(min: f64, max: f64): PropSpec {
    this.hasMin = true;
    this.minValue = min;
    this.hasMax = true;
    this.maxValue = max;
    return this;
  }

  encode(out: Writer): void {
    out.writeString(this.name);
    out.writeString(this.label);
    this.defaultValue.encode(out);
    out.writeBool(this.hasMin);
    if (this.hasMin) out.writeF64(this.minValue);
    out.writeBool(this.hasMax);
    if (this.hasMax) out.writeF64(this.maxValue);
  }
}

/** What a module says about itself: display name, semver version, property specs. */
export class ModuleInfo {
  constructor(
    public name: string,
    public version: string,
    public props: Array<PropSpec> = [],
  ) {}

  encode(out: Writer): void {
    out.writeString(this.name);
    out.writeString(this.version);
    out.writeU32(<u32>this.props.length);
    for (let i = 0; i < this.props.length; i++) unchecked(this.props[i]).encode(out);
  }
}

/** Current property values of a layer. */
export class Props {
  values: Array<Prop> = [];

  static empty(): Props {
    return new Props();
  }

  /** Every spec's default. */
  static defaults(specs: Array<PropSpec>): Props {
    const p = new Props();
    for (let i = 0; i < specs.length; i++) {
      const s = unchecked(specs[i]);
      p.values.push(new Prop(s.name, s.defaultValue));
    }
    return p;
  }

  /** Overrides values by name (adding unknown names). */
  merge(changed: Array<Prop>): void {
    for (let i = 0; i < changed.length; i++) {
      const prop = unchecked(changed[i]);
      this.set(prop.name, prop.value);
    }
  }

  /** Sets one value (adding it if the name is new); returns the props. */
  set(name: string, value: PropValue): Props {
    for (let i = 0; i < this.values.length; i++) {
      const slot = unchecked(this.values[i]);
      if (slot.name == name) {
        slot.value = value;
        return this;
      }
    }
    this.values.push(new Prop(name, value));
    return this;
  }

  get(name: string): PropValue | null {
    for (let i = 0; i < this.values.length; i++) {
      const p = unchecked(this.values[i]);
      if (p.name == name) return p.value;
    }
    return null;
  }

  /** Text (or asset name) of `name`; "" if missing or of another type. */
  text(name: string): string {
    const v = this.get(name);
    if (v !== null && (v.kind == PropKind.Text || v.kind == PropKind.Asset)) return v.asText;
    return "";
  }

  /** Number of `name`; `fallback` if missing or of another type. */
  number(name: string, fallback: f64): f64 {
    const v = this.get(name);
    if (v !== null && v.kind == PropKind.Number) return v.asNumber;
    return fallback;
  }

  /** Colour of `name`; `fallback` if missing or of another type. */
  color(name: string, fallback: Color): Color {
    const v = this.get(name);
    if (v !== null && v.kind == PropKind.Color) return v.asColor;
    return fallback;
  }

  /** Flag `name`; `fallback` if missing or of another type. */
  flag(name: string, fallback: bool): bool {
    const v = this.get(name);
    if (v !== null && v.kind == PropKind.Flag) return v.asFlag;
    return fallback;
  }

  /** `props` = `list<prop>`. */
  static decodeList(r: Reader): Array<Prop> {
    const n = r.readCount(5); // a prop is at least a 4-byte name length and a tag
    const list = new Array<Prop>();
    for (let i = 0; i < n; i++) {
      const name = r.readString();
      list.push(new Prop(name, PropValue.decode(r)));
    }
    return list;
  }
}
