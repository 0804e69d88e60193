//! The binary encoding of core-module ABI v1 (wit/core-abi-v1.md): what crosses
//! between the host and a core module (AssemblyScript) instead of the canonical ABI.
//!
//! Decoders read untrusted guest bytes: every read is bounds-checked, counts are
//! checked against the bytes left (and the draw-list cap) before anything is
//! allocated, unknown tags, invalid UTF-8 and trailing bytes are errors. Nothing
//! here panics on any input.

use crate::drawlist::*;
use crate::frame::FrameInfo;
use crate::props::{ModuleInfo, Prop, PropSpec, PropValue};

/// Magic at the start of an encoded draw list.
pub const DRAW_LIST_MAGIC: &[u8; 4] = b"SRDL";
/// Encoding version of the draw list.
pub const DRAW_LIST_VERSION: u8 = 1;

/// Bytes that do not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {what}")]
pub struct AbiError {
    pub offset: usize,
    pub what: String,
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn err<T>(&self, what: impl Into<String>) -> Result<T, AbiError> {
        Err(AbiError { offset: self.pos, what: what.into() })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AbiError> {
        match self.pos.checked_add(n).filter(|&end| end <= self.bytes.len()) {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => self.err(format!("needs {n} more bytes, {} left", self.bytes.len() - self.pos)),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], AbiError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, AbiError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, AbiError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, AbiError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, AbiError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, AbiError> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, AbiError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    fn bool(&mut self) -> Result<bool, AbiError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => self.err(format!("bool is {b}, not 0 or 1")),
        }
    }

    /// A count of elements that take at least `min_size` bytes each, checked
    /// against what is left so a hostile count cannot trigger a huge allocation.
    fn count(&mut self, min_size: usize) -> Result<usize, AbiError> {
        let n = self.u32()? as usize;
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(min_size.max(1)) > left {
            return self.err(format!("count {n} does not fit in the {left} bytes left"));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, AbiError> {
        let n = self.count(1)?;
        let start = self.pos;
        let raw = self.take(n)?;
        std::str::from_utf8(raw).map(str::to_string).map_err(|e| AbiError { offset: start + e.valid_up_to(), what: "invalid UTF-8".into() })
    }

    fn bytes(&mut self) -> Result<Vec<u8>, AbiError> {
        let n = self.count(1)?;
        Ok(self.take(n)?.to_vec())
    }

    fn f32s(&mut self) -> Result<Vec<f32>, AbiError> {
        let n = self.count(4)?;
        (0..n).map(|_| self.f32()).collect()
    }

    fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> Result<T, AbiError>) -> Result<Option<T>, AbiError> {
        if self.bool()? { read(self).map(Some) } else { Ok(None) }
    }

    fn tag<T>(&mut self, what: &str, cases: &[T]) -> Result<T, AbiError>
    where
        T: Copy,
    {
        let t = self.u8()?;
        match cases.get(t as usize) {
            Some(v) => Ok(*v),
            None => {
                self.pos -= 1;
                self.err(format!("unknown {what} {t}"))
            }
        }
    }

    fn finish(&self) -> Result<(), AbiError> {
        if self.pos == self.bytes.len() { Ok(()) } else { self.err(format!("{} trailing bytes", self.bytes.len() - self.pos)) }
    }

    fn color(&mut self) -> Result<Color, AbiError> {
        Ok(Color { r: self.f32()?, g: self.f32()?, b: self.f32()?, a: self.f32()? })
    }

    fn affine(&mut self) -> Result<Affine, AbiError> {
        Ok(Affine { a: self.f32()?, b: self.f32()?, c: self.f32()?, d: self.f32()?, e: self.f32()?, f: self.f32()? })
    }

    fn rect(&mut self) -> Result<Rect, AbiError> {
        Ok(Rect { x: self.f32()?, y: self.f32()?, width: self.f32()?, height: self.f32()? })
    }

    fn path(&mut self) -> Result<Path, AbiError> {
        let verbs = self.bytes()?;
        let points = self.f32s()?;
        Ok(Path { verbs, points })
    }

    fn stops(&mut self) -> Result<Vec<GradientStop>, AbiError> {
        let n = self.count(20)?;
        (0..n).map(|_| Ok(GradientStop { offset: self.f32()?, color: self.color()? })).collect()
    }

    fn paint(&mut self) -> Result<Paint, AbiError> {
        match self.tag("paint", &[0u8, 1, 2, 3])? {
            0 => Ok(Paint::Solid(self.color()?)),
            1 => Ok(Paint::Linear(LinearGradient { x0: self.f32()?, y0: self.f32()?, x1: self.f32()?, y1: self.f32()?, stops: self.stops()? })),
            2 => Ok(Paint::Radial(RadialGradient { cx: self.f32()?, cy: self.f32()?, radius: self.f32()?, stops: self.stops()? })),
            _ => Ok(Paint::Image(ImageFill { asset: self.string()?, transform: self.affine()?, opacity: self.f32()? })),
        }
    }

    fn prop_value(&mut self) -> Result<PropValue, AbiError> {
        match self.tag("prop-value", &[0u8, 1, 2, 3, 4])? {
            0 => Ok(PropValue::Flag(self.bool()?)),
            1 => Ok(PropValue::Number(self.f64()?)),
            2 => Ok(PropValue::Text(self.string()?)),
            3 => Ok(PropValue::Color(self.color()?)),
            _ => Ok(PropValue::Asset(self.string()?)),
        }
    }

    fn op(&mut self) -> Result<DrawOp, AbiError> {
        use {BlendMode as B, FillRule as R, LineCap as C, LineJoin as J, TextAlign as A};
        Ok(match self.tag("draw op", &[0u8, 1, 2, 3, 4, 5, 6])? {
            0 => DrawOp::Push(Group {
                transform: self.affine()?,
                opacity: self.f32()?,
                clip: self.option(Self::path)?,
                blend: self.tag("blend mode", &[B::Normal, B::Add, B::Multiply, B::Screen])?,
            }),
            1 => DrawOp::Pop,
            2 => DrawOp::Fill(Fill { path: self.path()?, paint: self.paint()?, rule: self.tag("fill rule", &[R::NonZero, R::EvenOdd])? }),
            3 => DrawOp::Stroke(Stroke {
                path: self.path()?,
                paint: self.paint()?,
                width: self.f32()?,
                join: self.tag("line join", &[J::Miter, J::Round, J::Bevel])?,
                cap: self.tag("line cap", &[C::Butt, C::Round, C::Square])?,
                miter_limit: self.f32()?,
                dash: self.f32s()?,
                dash_offset: self.f32()?,
            }),
            4 => DrawOp::Text(TextRun {
                text: self.string()?,
                family: self.string()?,
                weight: self.u16()?,
                size: self.f32()?,
                x: self.f32()?,
                y: self.f32()?,
                align: self.tag("text align", &[A::Start, A::Center, A::End])?,
                paint: self.paint()?,
                max_width: self.option(Self::f32)?,
            }),
            5 => DrawOp::Image(ImageDraw { asset: self.string()?, dest: self.rect()?, opacity: self.f32()? }),
            _ => DrawOp::Video(VideoDraw { input: self.string()?, dest: self.rect()?, opacity: self.f32()? }),
        })
    }
}

/// Decodes a draw list; more than `max_ops` ops is an error before any is read.
pub fn decode_draw_list(bytes: &[u8], max_ops: usize) -> Result<Vec<DrawOp>, AbiError> {
    let mut r = Reader::new(bytes);
    if r.take(4)? != DRAW_LIST_MAGIC {
        return Err(AbiError { offset: 0, what: "not a draw list (magic is not \"SRDL\")".into() });
    }
    let version = r.u8()?;
    if version != DRAW_LIST_VERSION {
        return Err(AbiError { offset: 4, what: format!("draw-list encoding version {version}; this host reads {DRAW_LIST_VERSION}") });
    }
    let count = r.count(1)?;
    if count > max_ops {
        return Err(AbiError { offset: 5, what: format!("{count} ops exceed the cap of {max_ops}") });
    }
    let mut ops = Vec::with_capacity(count);
    for _ in 0..count {
        ops.push(r.op()?);
    }
    r.finish()?;
    Ok(ops)
}

pub fn decode_module_info(bytes: &[u8]) -> Result<ModuleInfo, AbiError> {
    let mut r = Reader::new(bytes);
    let name = r.string()?;
    let version = r.string()?;
    let n = r.count(12)?;
    let props = (0..n)
        .map(|_| Ok(PropSpec { name: r.string()?, label: r.string()?, default: r.prop_value()?, min: r.option(Reader::f64)?, max: r.option(Reader::f64)? }))
        .collect::<Result<Vec<_>, AbiError>>()?;
    r.finish()?;
    Ok(ModuleInfo { name, version, props })
}

/// Decodes a `result`: `Ok(Ok(()))`, `Ok(Err(message))`, or malformed bytes.
pub fn decode_result(bytes: &[u8]) -> Result<Result<(), String>, AbiError> {
    let mut r = Reader::new(bytes);
    let out = if r.bool()? { Err(r.string()?) } else { Ok(()) };
    r.finish()?;
    Ok(out)
}

/// Decodes what [`encode_props`] wrote (used by tests and SDK checks).
pub fn decode_props(bytes: &[u8]) -> Result<Vec<Prop>, AbiError> {
    let mut r = Reader::new(bytes);
    let n = r.count(6)?;
    let props = (0..n).map(|_| Ok(Prop { name: r.string()?, value: r.prop_value()? })).collect::<Result<Vec<_>, AbiError>>()?;
    r.finish()?;
    Ok(props)
}

/// A little-endian writer for the same forms.
#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: usize) {
        self.bytes.extend_from_slice(&(v as u32).to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.u32(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }
    fn f32s(&mut self, v: &[f32]) {
        self.u32(v.len());
        v.iter().for_each(|x| self.f32(*x));
    }
    fn color(&mut self, c: &Color) {
        [c.r, c.g, c.b, c.a].iter().for_each(|x| self.f32(*x));
    }
    fn affine(&mut self, t: &Affine) {
        [t.a, t.b, t.c, t.d, t.e, t.f].iter().for_each(|x| self.f32(*x));
    }
    fn rect(&mut self, r: &Rect) {
        [r.x, r.y, r.width, r.height].iter().for_each(|x| self.f32(*x));
    }
    fn path(&mut self, p: &Path) {
        self.u32(p.verbs.len());
        self.bytes.extend_from_slice(&p.verbs);
        self.f32s(&p.points);
    }
    fn stops(&mut self, stops: &[GradientStop]) {
        self.u32(stops.len());
        for s in stops {
            self.f32(s.offset);
            self.color(&s.color);
        }
    }
    fn paint(&mut self, p: &Paint) {
        match p {
            Paint::Solid(c) => {
                self.u8(0);
                self.color(c);
            }
            Paint::Linear(g) => {
                self.u8(1);
                [g.x0, g.y0, g.x1, g.y1].iter().for_each(|x| self.f32(*x));
                self.stops(&g.stops);
            }
            Paint::Radial(g) => {
                self.u8(2);
                [g.cx, g.cy, g.radius].iter().for_each(|x| self.f32(*x));
                self.stops(&g.stops);
            }
            Paint::Image(f) => {
                self.u8(3);
                self.string(&f.asset);
                self.affine(&f.transform);
                self.f32(f.opacity);
            }
        }
    }
    fn prop_value(&mut self, v: &PropValue) {
        match v {
            PropValue::Flag(b) => {
                self.u8(0);
                self.u8(u8::from(*b));
            }
            PropValue::Number(n) => {
                self.u8(1);
                self.f64(*n);
            }
            PropValue::Text(s) => {
                self.u8(2);
                self.string(s);
            }
            PropValue::Color(c) => {
                self.u8(3);
                self.color(c);
            }
            PropValue::Asset(s) => {
                self.u8(4);
                self.string(s);
            }
        }
    }
    fn option_f64(&mut self, v: Option<f64>) {
        match v {
            Some(x) => {
                self.u8(1);
                self.f64(x);
            }
            None => self.u8(0),
        }
    }
    fn op(&mut self, op: &DrawOp) {
        match op {
            DrawOp::Push(g) => {
                self.u8(0);
                self.affine(&g.transform);
                self.f32(g.opacity);
                match &g.clip {
                    Some(p) => {
                        self.u8(1);
                        self.path(p);
                    }
                    None => self.u8(0),
                }
                self.u8(g.blend as u8);
            }
            DrawOp::Pop => self.u8(1),
            DrawOp::Fill(f) => {
                self.u8(2);
                self.path(&f.path);
                self.paint(&f.paint);
                self.u8(f.rule as u8);
            }
            DrawOp::Stroke(s) => {
                self.u8(3);
                self.path(&s.path);
                self.paint(&s.paint);
                self.f32(s.width);
                self.u8(s.join as u8);
                self.u8(s.cap as u8);
                self.f32(s.miter_limit);
                self.f32s(&s.dash);
                self.f32(s.dash_offset);
            }
            DrawOp::Text(t) => {
                self.u8(4);
                self.string(&t.text);
                self.string(&t.family);
                self.u16(t.weight);
                [t.size, t.x, t.y].iter().for_each(|x| self.f32(*x));
                self.u8(t.align as u8);
                self.paint(&t.paint);
                match t.max_width {
                    Some(w) => {
                        self.u8(1);
                        self.f32(w);
                    }
                    None => self.u8(0),
                }
            }
            DrawOp::Image(i) => {
                self.u8(5);
                self.string(&i.asset);
                self.rect(&i.dest);
                self.f32(i.opacity);
            }
            DrawOp::Video(v) => {
                self.u8(6);
                self.string(&v.input);
                self.rect(&v.dest);
                self.f32(v.opacity);
            }
        }
    }
}

pub fn encode_draw_list(ops: &[DrawOp]) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes.extend_from_slice(DRAW_LIST_MAGIC);
    w.u8(DRAW_LIST_VERSION);
    w.u32(ops.len());
    ops.iter().for_each(|op| w.op(op));
    w.bytes
}

pub fn encode_props(props: &[Prop]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u32(props.len());
    for p in props {
        w.string(&p.name);
        w.prop_value(&p.value);
    }
    w.bytes
}

pub fn encode_event(e: &Event) -> Vec<u8> {
    let mut w = Writer::default();
    w.string(&e.name);
    w.string(&e.payload);
    w.bytes
}

pub fn encode_frame(f: &FrameInfo) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes.extend_from_slice(&f.index.to_le_bytes());
    w.f64(f.time);
    for v in [f.width, f.height, f.fps_num, f.fps_den] {
        w.bytes.extend_from_slice(&v.to_le_bytes());
    }
    w.bytes
}

pub fn encode_module_info(info: &ModuleInfo) -> Vec<u8> {
    let mut w = Writer::default();
    w.string(&info.name);
    w.string(&info.version);
    w.u32(info.props.len());
    for s in &info.props {
        w.string(&s.name);
        w.string(&s.label);
        w.prop_value(&s.default);
        w.option_f64(s.min);
        w.option_f64(s.max);
    }
    w.bytes
}

pub fn encode_result(r: &Result<(), String>) -> Vec<u8> {
    let mut w = Writer::default();
    match r {
        Ok(()) => w.u8(0),
        Err(e) => {
            w.u8(1);
            w.string(e);
        }
    }
    w.bytes
}

/// Reads a `frame-info` (for SDK conformance tests).
pub fn decode_frame(bytes: &[u8]) -> Result<FrameInfo, AbiError> {
    let mut r = Reader::new(bytes);
    let f = FrameInfo { index: r.u64()?, time: r.f64()?, width: r.u32()?, height: r.u32()?, fps_num: r.u32()?, fps_den: r.u32()? };
    r.finish()?;
    Ok(f)
}

#[cfg(test)]
mod tests;
