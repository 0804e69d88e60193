//! Helpers shared by the renderer's test binaries: one renderer per binary, path
//! builders, and the golden-image comparison.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

use showrunner_core::*;
use showrunner_render::{Frame, RenderError, Renderer};

pub const RED: Color = Color { r: 1.0, g: 0.0, b: 0.0, a: 1.0 };
pub const CLEAR: [u8; 4] = [0, 0, 0, 0];

/// One renderer for the whole test binary: opening a device is the slow part.
pub fn renderer() -> MutexGuard<'static, Renderer> {
    static RENDERER: OnceLock<Result<Mutex<Renderer>, RenderError>> = OnceLock::new();
    match RENDERER.get_or_init(|| Renderer::new().map(Mutex::new)) {
        Ok(r) => r.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        Err(e) => panic!("{e}"),
    }
}

pub fn render(ops: &[DrawOp], width: u32, height: u32) -> Frame {
    let mut ops = ops.to_vec();
    validate(&mut ops, &DrawListLimits::default()).expect("test draw lists are valid");
    renderer().render(&ops, width, height).expect("renders")
}

pub fn px(frame: &Frame, x: u32, y: u32) -> [u8; 4] {
    frame.pixel(x, y).expect("inside the frame")
}

/// Builds flat paths the way a guest does.
#[derive(Default)]
pub struct P(pub Path);

impl P {
    pub fn m(mut self, x: f32, y: f32) -> P {
        self.0.verbs.push(verb::MOVE);
        self.0.points.extend([x, y]);
        self
    }
    pub fn l(mut self, x: f32, y: f32) -> P {
        self.0.verbs.push(verb::LINE);
        self.0.points.extend([x, y]);
        self
    }
    pub fn q(mut self, cx: f32, cy: f32, x: f32, y: f32) -> P {
        self.0.verbs.push(verb::QUAD);
        self.0.points.extend([cx, cy, x, y]);
        self
    }
    pub fn c(mut self, c1: (f32, f32), c2: (f32, f32), to: (f32, f32)) -> P {
        self.0.verbs.push(verb::CUBIC);
        self.0.points.extend([c1.0, c1.1, c2.0, c2.1, to.0, to.1]);
        self
    }
    pub fn z(mut self) -> Path {
        self.0.verbs.push(verb::CLOSE);
        self.0
    }
    pub fn open(self) -> Path {
        self.0
    }
}

pub fn rect(x: f32, y: f32, w: f32, h: f32) -> Path {
    P::default().m(x, y).l(x + w, y).l(x + w, y + h).l(x, y + h).z()
}

/// A circle from four cubics.
pub fn circle(cx: f32, cy: f32, r: f32) -> Path {
    let k = 0.552_284_8 * r;
    P::default()
        .m(cx + r, cy)
        .c((cx + r, cy + k), (cx + k, cy + r), (cx, cy + r))
        .c((cx - k, cy + r), (cx - r, cy + k), (cx - r, cy))
        .c((cx - r, cy - k), (cx - k, cy - r), (cx, cy - r))
        .c((cx + k, cy - r), (cx + r, cy - k), (cx + r, cy))
        .z()
}

pub fn star(cx: f32, cy: f32, r: f32) -> Path {
    let mut p = P::default();
    for k in 0..5 {
        let angle = (-90.0f32 + 144.0 * k as f32).to_radians();
        let (x, y) = (cx + r * angle.cos(), cy + r * angle.sin());
        p = if k == 0 { p.m(x, y) } else { p.l(x, y) };
    }
    p.z()
}

pub fn color(r: f32, g: f32, b: f32, a: f32) -> Color {
    Color { r, g, b, a }
}

pub fn fill(path: Path, c: Color) -> DrawOp {
    DrawOp::Fill(Fill { path, paint: Paint::Solid(c), rule: FillRule::NonZero })
}

pub fn fill_rule(path: Path, c: Color, rule: FillRule) -> DrawOp {
    DrawOp::Fill(Fill { path, paint: Paint::Solid(c), rule })
}

pub fn stroke(path: Path, c: Color, width: f32, join: LineJoin, cap: LineCap) -> DrawOp {
    DrawOp::Stroke(Stroke { path, paint: Paint::Solid(c), width, join, cap, miter_limit: 4.0, dash: vec![], dash_offset: 0.0 })
}

pub fn push(transform: Affine, opacity: f32) -> DrawOp {
    DrawOp::Push(Group { transform, opacity, clip: None, blend: BlendMode::Normal })
}

pub fn translate(x: f32, y: f32) -> Affine {
    Affine { e: x, f: y, ..Affine::IDENTITY }
}

pub fn rotate_about(deg: f32, cx: f32, cy: f32) -> Affine {
    let (s, c) = deg.to_radians().sin_cos();
    Affine { a: c, b: s, c: -s, d: c, e: cx - c * cx + s * cy, f: cy - s * cx - c * cy }
}

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `frame` with `tests/golden/NAME.png`: a pixel differs when a channel is off
/// by more than `tolerance`; at most `max_share` of the pixels may differ. Writes the
/// golden when `UPDATE_GOLDEN=1` or when it is missing, and `NAME.actual.png` and
/// `NAME.diff.png` next to it when the comparison fails.
pub fn check_golden(name: &str, frame: &Frame, tolerance: u8, max_share: f64) {
    let path = golden_dir().join(format!("{name}.png"));
    let actual = image::RgbaImage::from_raw(frame.width, frame.height, frame.pixels.to_vec()).expect("frame size matches");
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") || !path.exists() {
        actual.save(&path).expect("writes the golden image");
        eprintln!("wrote {}", path.display());
        return;
    }
    let golden = image::open(&path).expect("reads the golden image").to_rgba8();
    assert_eq!(golden.dimensions(), actual.dimensions(), "{name}: size differs from the golden");
    let mut diff = image::RgbaImage::new(frame.width, frame.height);
    let mut differing = 0usize;
    let mut worst = 0u8;
    for ((g, a), d) in golden.pixels().zip(actual.pixels()).zip(diff.pixels_mut()) {
        let delta = g.0.iter().zip(a.0.iter()).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
        worst = worst.max(delta);
        if delta > tolerance {
            differing += 1;
            *d = image::Rgba([255, 0, 255, 255]);
        } else {
            *d = image::Rgba([0, 0, 0, a.0[3] / 4]);
        }
    }
    let share = differing as f64 / f64::from(frame.width * frame.height);
    if share > max_share {
        let actual_path = golden_dir().join(format!("{name}.actual.png"));
        let diff_path = golden_dir().join(format!("{name}.diff.png"));
        actual.save(&actual_path).expect("writes the actual image");
        diff.save(&diff_path).expect("writes the diff image");
        panic!(
            "{name}: {differing} pixels ({:.3}%) differ by more than {tolerance} (worst {worst}); see {} and {}; \
             UPDATE_GOLDEN=1 re-blesses",
            share * 100.0,
            actual_path.display(),
            diff_path.display()
        );
    }
}

/// A `width`×`height` texture a caller of `draw_into` would own.
pub fn target_texture(r: &Renderer, width: u32, height: u32) -> wgpu::Texture {
    r.gpu().device.create_texture(&wgpu::TextureDescriptor {
        label: Some("test target"),
        size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: showrunner_render::COLOR_FORMAT,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    })
}


/// Asserts every channel of `actual` is within `tolerance` of `expected`.
#[track_caller]
pub fn assert_near(actual: [u8; 4], expected: [u8; 4], tolerance: u8, what: &str) {
    let off = actual.iter().zip(expected).any(|(a, e)| a.abs_diff(e) > tolerance);
    assert!(!off, "{what}: got {actual:?}, expected {expected:?} ± {tolerance}");
}

pub fn stops(colors: &[(f32, Color)]) -> Vec<GradientStop> {
    colors.iter().map(|(offset, color)| GradientStop { offset: *offset, color: *color }).collect()
}

pub fn linear(x0: f32, y0: f32, x1: f32, y1: f32, colors: &[(f32, Color)]) -> Paint {
    Paint::Linear(LinearGradient { x0, y0, x1, y1, stops: stops(colors) })
}

pub fn radial(cx: f32, cy: f32, radius: f32, colors: &[(f32, Color)]) -> Paint {
    Paint::Radial(RadialGradient { cx, cy, radius, stops: stops(colors) })
}

pub fn fill_paint(path: Path, paint: Paint) -> DrawOp {
    DrawOp::Fill(Fill { path, paint, rule: FillRule::NonZero })
}

pub fn group(transform: Affine, opacity: f32, clip: Option<Path>, blend: BlendMode) -> DrawOp {
    DrawOp::Push(Group { transform, opacity, clip, blend })
}

pub fn clip(path: Path) -> DrawOp {
    group(Affine::IDENTITY, 1.0, Some(path), BlendMode::Normal)
}

pub fn blend(mode: BlendMode) -> DrawOp {
    group(Affine::IDENTITY, 1.0, None, mode)
}

pub fn scale(s: f32) -> Affine {
    Affine { a: s, d: s, ..Affine::IDENTITY }
}

pub const BLUE: Color = Color { r: 0.0, g: 0.0, b: 1.0, a: 1.0 };
pub const TRANSPARENT: Color = Color { r: 0.0, g: 0.0, b: 0.0, a: 0.0 };
