//! Helpers for showrunner's benchmarks (`benches/scenes.rs`): sample statistics,
//! number formatting, the native twin of the host's draw-list conversion, what else
//! the machine was doing ([`machine`]), and the real `showrunner serve` for the benches
//! that drive it ([`serve`]).
//!
//! Owns: nothing the runtime uses. Must not: be depended on by runtime crates, or
//! time anything itself (the bench target does the timing, so what a number
//! includes is visible in one place).

use std::path::{Path, PathBuf};
use std::time::Duration;

use showrunner_core as core;
use showrunner_guest::scene_bindings::showrunner::scene::types as wit;

/// Median and 99th percentile of a set of samples (nearest rank).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub p50: f64,
    pub p99: f64,
    pub samples: usize,
}

/// Summarises `samples` (any unit). NaNs sort last; an empty set gives NaN.
pub fn summarize(samples: &[f64]) -> Summary {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Summary { p50: percentile_of_sorted(&sorted, 0.50), p99: percentile_of_sorted(&sorted, 0.99), samples: sorted.len() }
}

/// Nearest-rank percentile `p` (0 to 1) of `samples` in any order; NaN when empty.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile_of_sorted(&sorted, p)
}

/// Nearest-rank percentile of already sorted samples.
fn percentile_of_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A duration in milliseconds.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A duration in microseconds.
pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Microseconds with as many decimals as make sense for their size.
pub fn fmt_us(us: f64) -> String {
    if !us.is_finite() {
        "-".to_string()
    } else if us < 1.0 {
        format!("{us:.3}")
    } else if us < 100.0 {
        format!("{us:.2}")
    } else {
        format!("{us:.0}")
    }
}

/// A ratio such as "3.4×".
pub fn fmt_ratio(r: f64) -> String {
    if !r.is_finite() {
        "-".to_string()
    } else if r < 10.0 {
        format!("{r:.2}×")
    } else {
        format!("{r:.1}×")
    }
}

/// The workspace's root (this crate's parent folder).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Cargo's target dir: `$CARGO_TARGET_DIR` (a relative one is taken from the workspace
/// root, where xtask runs cargo) or `<workspace>/target`.
pub fn target_dir(workspace_root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace_root.join(dir),
        None => workspace_root.join("target"),
    }
}

/// Where `cargo xtask build-scenes` puts guest components: [`target_dir`], then
/// `wasm32-wasip2/guest`.
pub fn guest_dir(workspace_root: &Path) -> PathBuf {
    target_dir(workspace_root).join("wasm32-wasip2").join("guest")
}

/// The component file of guest crate `crate_name` (`scene-lower-third` →
/// `scene_lower_third.wasm`).
pub fn guest_file(dir: &Path, crate_name: &str) -> PathBuf {
    dir.join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The newest modification time of the files under `dir` (recursively).
pub fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() { newest_mtime(&path) } else { entry.metadata().and_then(|m| m.modified()).ok() };
        newest = newest.max(t);
    }
    newest
}

pub mod machine;
pub mod serve;

/// Native twin of the host's conversion (`runtime/wasm/src/convert.rs`): the
/// guest SDK's draw ops (the WIT types as Rust sees them) into `showrunner-core`'s
/// model, moving strings and lists like the host does after lifting. Natively
/// ticked scenes go through this and [`core::validate`] to cost the same host-side
/// work as a Wasm tick.
pub mod convert {
    use super::{core, wit};

    fn color(c: wit::Color) -> core::Color {
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

    pub fn draw_op(op: wit::DrawOp) -> core::DrawOp {
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

    pub fn draw_list(ops: Vec<wit::DrawOp>) -> Vec<core::DrawOp> {
        ops.into_iter().map(draw_op).collect()
    }

    fn scene_view(v: wit::SceneView) -> core::SceneView {
        core::SceneView { transform: affine(v.transform), opacity: v.opacity, clip: v.clip.map(path) }
    }

    /// A transition's views and overlay as the host's `MixPlan`.
    pub fn mix_plan(views: showrunner_guest::Views, overlay: Vec<wit::DrawOp>) -> core::MixPlan {
        core::MixPlan {
            outgoing: scene_view(views.outgoing),
            incoming: scene_view(views.incoming),
            incoming_on_top: views.incoming_on_top,
            overlay: draw_list(overlay),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use showrunner_guest::{Canvas, Color, Group, Rect, TextStyle};

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(summarize(&samples), Summary { p50: 50.0, p99: 99.0, samples: 100 });
        assert_eq!(summarize(&[3.0]).p99, 3.0);
        assert!(summarize(&[]).p50.is_nan());
        assert_eq!(percentile(&[5.0, 1.0, 4.0, 2.0, 3.0], 0.95), 5.0);
        assert_eq!(percentile(&[5.0, 1.0, 4.0, 2.0, 3.0], 0.5), 3.0);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn converted_native_draw_lists_validate() {
        let mut canvas = Canvas::new();
        canvas.group(Group::default().opacity(0.5), |c| {
            c.fill_rect(Rect::new(0.0, 0.0, 10.0, 10.0), Color::WHITE);
            c.text("hi", 1.0, 2.0, &TextStyle::new(20.0));
        });
        let mut ops = convert::draw_list(canvas.take_ops());
        assert_eq!(ops.iter().map(core::DrawOp::kind).collect::<Vec<_>>(), ["push", "fill", "text", "pop"]);
        assert!(core::validate(&mut ops, &core::DrawListLimits::default()).is_ok());
    }

    #[test]
    fn guest_files_are_named_after_the_crate() {
        assert_eq!(guest_file(Path::new("/t"), "scene-lower-third"), Path::new("/t/scene_lower_third.wasm"));
    }
}
