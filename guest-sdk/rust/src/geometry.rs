//! Constructors for the WIT value types: colours, transforms, rectangles, paints.

use crate::scene_bindings::showrunner::scene::types::{
    GradientStop, ImageFill, LinearGradient, RadialGradient,
};
use crate::{Affine, Color, FrameInfo, Rect, SceneView};

impl FrameInfo {
    /// Frame `index` at `fps_num / fps_den` frames per second, the way the host
    /// computes it (time from the index, never accumulated). For native tests.
    pub fn at(index: u64, width: u32, height: u32, fps_num: u32, fps_den: u32) -> FrameInfo {
        let (num, den) = if fps_num == 0 || fps_den == 0 { (30, 1) } else { (fps_num, fps_den) };
        FrameInfo { index, time: index as f64 * den as f64 / num as f64, width, height, fps_num: num, fps_den: den }
    }
}

impl Color {
    pub const WHITE: Color = Color::rgb(1.0, 1.0, 1.0);
    pub const BLACK: Color = Color::rgb(0.0, 0.0, 0.0);
    pub const TRANSPARENT: Color = Color::rgba(0.0, 0.0, 0.0, 0.0);

    /// Opaque colour from sRGB channels in 0..=1.
    pub const fn rgb(r: f32, g: f32, b: f32) -> Color {
        Color { r, g, b, a: 1.0 }
    }

    /// Colour from sRGB channels and straight alpha in 0..=1.
    pub const fn rgba(r: f32, g: f32, b: f32, a: f32) -> Color {
        Color { r, g, b, a }
    }

    /// Opaque colour from `0xRRGGBB`.
    pub const fn hex(rgb: u32) -> Color {
        Color::rgb(
            ((rgb >> 16) & 0xff) as f32 / 255.0,
            ((rgb >> 8) & 0xff) as f32 / 255.0,
            (rgb & 0xff) as f32 / 255.0,
        )
    }

    /// The same colour with alpha multiplied by `factor`.
    pub fn fade(self, factor: f32) -> Color {
        Color { a: self.a * factor.clamp(0.0, 1.0), ..self }
    }
}

impl Affine {
    pub const IDENTITY: Affine = Affine { a: 1.0, b: 0.0, c: 0.0, d: 1.0, e: 0.0, f: 0.0 };

    pub const fn translate(x: f32, y: f32) -> Affine {
        Affine { a: 1.0, b: 0.0, c: 0.0, d: 1.0, e: x, f: y }
    }

    pub const fn scale(sx: f32, sy: f32) -> Affine {
        Affine { a: sx, b: 0.0, c: 0.0, d: sy, e: 0.0, f: 0.0 }
    }

    /// Rotation by `radians`, clockwise on screen (y grows down).
    pub fn rotate(radians: f32) -> Affine {
        let (s, c) = radians.sin_cos();
        Affine { a: c, b: s, c: -s, d: c, e: 0.0, f: 0.0 }
    }

    /// `self` applied first, then `next`.
    pub fn then(self, next: Affine) -> Affine {
        Affine {
            a: next.a * self.a + next.c * self.b,
            b: next.b * self.a + next.d * self.b,
            c: next.a * self.c + next.c * self.d,
            d: next.b * self.c + next.d * self.d,
            e: next.a * self.e + next.c * self.f + next.e,
            f: next.b * self.e + next.d * self.f + next.f,
        }
    }

    /// Maps a point.
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f)
    }
}

impl Rect {
    pub const fn new(x: f32, y: f32, width: f32, height: f32) -> Rect {
        Rect { x, y, width, height }
    }
}

impl SceneView {
    /// The scene as it is: identity transform, opaque, unclipped.
    pub const fn normal() -> SceneView {
        SceneView { transform: Affine::IDENTITY, opacity: 1.0, clip: None }
    }

    /// The scene at the given opacity.
    pub fn with_opacity(opacity: f32) -> SceneView {
        SceneView { opacity: opacity.clamp(0.0, 1.0), ..SceneView::normal() }
    }
}

/// A colour stop for gradients: `Stop(offset, color)`.
#[derive(Clone, Copy, Debug)]
pub struct Stop(pub f32, pub Color);

/// How a shape is coloured.
pub type Paint = crate::scene_bindings::showrunner::scene::types::Paint;

impl Paint {
    /// A single colour.
    pub fn color(color: Color) -> Paint {
        Paint::Solid(color)
    }

    /// A linear gradient from (x0, y0) to (x1, y1).
    pub fn linear(x0: f32, y0: f32, x1: f32, y1: f32, stops: &[Stop]) -> Paint {
        Paint::Linear(LinearGradient { x0, y0, x1, y1, stops: to_stops(stops) })
    }

    /// A radial gradient around (cx, cy).
    pub fn radial(cx: f32, cy: f32, radius: f32, stops: &[Stop]) -> Paint {
        Paint::Radial(RadialGradient { cx, cy, radius, stops: to_stops(stops) })
    }

    /// An image asset as a paint, its origin placed by `transform`.
    pub fn image(asset: &str, transform: Affine, opacity: f32) -> Paint {
        Paint::Image(ImageFill { asset: asset.to_string(), transform, opacity })
    }
}

fn to_stops(stops: &[Stop]) -> Vec<GradientStop> {
    stops.iter().map(|s| GradientStop { offset: s.0, color: s.1 }).collect()
}

impl From<Color> for Paint {
    fn from(color: Color) -> Paint {
        Paint::Solid(color)
    }
}
