//! Conversions between the generated WIT types and `showrunner-core`'s model.
//! Strings and lists are moved, not copied.

use showrunner_core as core;

use crate::bindings::wit;

pub(crate) fn color(c: wit::Color) -> core::Color {
    core::Color { r: c.r, g: c.g, b: c.b, a: c.a }
}

fn affine(t: wit::Affine) -> core::Affine {
    core::Affine { a: t.a, b: t.b, c: t.c, d: t.d, e: t.e, f: t.f }
}

fn rect(r: wit::Rect) -> core::Rect {
    core::Rect { x: r.x, y: r.y, width: r.width, height: r.height }
}

fn path(p: wit::Path) -> core::Path {
    core::Path { verbs: p.verbs, points: p.points }
}

fn stops(stops: Vec<wit::GradientStop>) -> Vec<core::GradientStop> {
    stops.into_iter().map(|s| core::GradientStop { offset: s.offset, color: color(s.color) }).collect()
}

fn paint(p: wit::Paint) -> core::Paint {
    match p {
        wit::Paint::Solid(c) => core::Paint::Solid(color(c)),
        wit::Paint::Linear(g) => core::Paint::Linear(core::LinearGradient { x0: g.x0, y0: g.y0, x1: g.x1, y1: g.y1, stops: stops(g.stops) }),
        wit::Paint::Radial(g) => core::Paint::Radial(core::RadialGradient { cx: g.cx, cy: g.cy, radius: g.radius, stops: stops(g.stops) }),
        wit::Paint::Image(f) => core::Paint::Image(core::ImageFill { asset: f.asset, transform: affine(f.transform), opacity: f.opacity }),
    }
}

fn blend(b: wit::BlendMode) -> core::BlendMode {
    match b {
        wit::BlendMode::Normal => core::BlendMode::Normal,
        wit::BlendMode::Add => core::BlendMode::Add,
        wit::BlendMode::Multiply => core::BlendMode::Multiply,
        wit::BlendMode::Screen => core::BlendMode::Screen,
    }
}

fn fill_rule(r: wit::FillRule) -> core::FillRule {
    match r {
        wit::FillRule::NonZero => core::FillRule::NonZero,
        wit::FillRule::EvenOdd => core::FillRule::EvenOdd,
    }
}

fn join(j: wit::LineJoin) -> core::LineJoin {
    match j {
        wit::LineJoin::Miter => core::LineJoin::Miter,
        wit::LineJoin::Round => core::LineJoin::Round,
        wit::LineJoin::Bevel => core::LineJoin::Bevel,
    }
}

fn cap(c: wit::LineCap) -> core::LineCap {
    match c {
        wit::LineCap::Butt => core::LineCap::Butt,
        wit::LineCap::Round => core::LineCap::Round,
        wit::LineCap::Square => core::LineCap::Square,
    }
}

fn align(a: wit::TextAlign) -> core::TextAlign {
    match a {
        wit::TextAlign::Start => core::TextAlign::Start,
        wit::TextAlign::Center => core::TextAlign::Center,
        wit::TextAlign::End => core::TextAlign::End,
    }
}

pub(crate) fn draw_op(op: wit::DrawOp) -> core::DrawOp {
    match op {
        wit::DrawOp::Push(g) => core::DrawOp::Push(core::Group { transform: affine(g.transform), opacity: g.opacity, clip: g.clip.map(path), blend: blend(g.blend) }),
        wit::DrawOp::Pop => core::DrawOp::Pop,
        wit::DrawOp::Fill(f) => core::DrawOp::Fill(core::Fill { path: path(f.path), paint: paint(f.paint), rule: fill_rule(f.rule) }),
        wit::DrawOp::Stroke(s) => core::DrawOp::Stroke(core::Stroke {
            path: path(s.path),
            paint: paint(s.paint),
            width: s.width,
            join: join(s.join),
            cap: cap(s.cap),
            miter_limit: s.miter_limit,
            dash: s.dash,
            dash_offset: s.dash_offset,
        }),
        wit::DrawOp::Text(t) => core::DrawOp::Text(core::TextRun {
            text: t.text,
            family: t.family,
            weight: t.weight,
            size: t.size,
            x: t.x,
            y: t.y,
            align: align(t.align),
            paint: paint(t.paint),
            max_width: t.max_width,
        }),
        wit::DrawOp::Image(i) => core::DrawOp::Image(core::ImageDraw { asset: i.asset, dest: rect(i.dest), opacity: i.opacity }),
        wit::DrawOp::Video(v) => core::DrawOp::Video(core::VideoDraw { input: v.input, dest: rect(v.dest), opacity: v.opacity }),
    }
}

pub(crate) fn draw_list(ops: Vec<wit::DrawOp>) -> Vec<core::DrawOp> {
    ops.into_iter().map(draw_op).collect()
}

fn scene_view(v: wit::SceneView) -> core::SceneView {
    core::SceneView { transform: affine(v.transform), opacity: v.opacity, clip: v.clip.map(path) }
}

pub(crate) fn mix_plan(p: wit::MixPlan) -> core::MixPlan {
    core::MixPlan {
        outgoing: scene_view(p.outgoing),
        incoming: scene_view(p.incoming),
        incoming_on_top: p.incoming_on_top,
        overlay: draw_list(p.overlay),
    }
}

fn prop_value(v: wit::PropValue) -> core::PropValue {
    match v {
        wit::PropValue::Flag(b) => core::PropValue::Flag(b),
        wit::PropValue::Number(n) => core::PropValue::Number(n),
        wit::PropValue::Text(s) => core::PropValue::Text(s),
        wit::PropValue::Color(c) => core::PropValue::Color(color(c)),
        wit::PropValue::Asset(s) => core::PropValue::Asset(s),
    }
}

pub(crate) fn module_info(i: wit::ModuleInfo) -> core::ModuleInfo {
    core::ModuleInfo {
        name: i.name,
        version: i.version,
        props: i
            .props
            .into_iter()
            .map(|s| core::PropSpec { name: s.name, label: s.label, default: prop_value(s.default), min: s.min, max: s.max })
            .collect(),
    }
}

pub(crate) fn to_wit_prop(p: &core::Prop) -> wit::Prop {
    let value = match &p.value {
        core::PropValue::Flag(b) => wit::PropValue::Flag(*b),
        core::PropValue::Number(n) => wit::PropValue::Number(*n),
        core::PropValue::Text(s) => wit::PropValue::Text(s.clone()),
        core::PropValue::Color(c) => wit::PropValue::Color(wit::Color { r: c.r, g: c.g, b: c.b, a: c.a }),
        core::PropValue::Asset(s) => wit::PropValue::Asset(s.clone()),
    };
    wit::Prop { name: p.name.clone(), value }
}

pub(crate) fn to_wit_frame(f: &core::FrameInfo) -> wit::FrameInfo {
    wit::FrameInfo { index: f.index, time: f.time, width: f.width, height: f.height, fps_num: f.fps_num, fps_den: f.fps_den }
}

pub(crate) fn to_wit_event(e: &core::Event) -> wit::Event {
    wit::Event { name: e.name.clone(), payload: e.payload.clone() }
}
