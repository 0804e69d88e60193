//! Paint: how a fill, stroke, glyph run or image colours its pixels, expressed as
//! vertex attributes (an affine map from the op's local coordinates to paint
//! coordinates) and gradient ramps.
//!
//! Gradients are interpolated in premultiplied sRGB, the default of CSS gradients in
//! browsers: stops are premultiplied, then mixed linearly, so a fade to transparent
//! does not darken. Each gradient is baked into a ramp of [`RAMP_TEXELS`] texels that
//! the shader reads with linear interpolation; positions before the first stop take
//! its colour and past the last take the last one (pad). A linear gradient whose two
//! points coincide paints its last stop's colour (as SVG).
//!
//! It must not touch the GPU and must not panic on any validated paint.

use std::collections::HashMap;

use showrunner_core::{Affine, Color, GradientStop};

use crate::scene::RAMP_TEXELS;

/// Most distinct gradients one draw list may use; later ones are skipped and counted.
pub const MAX_RAMPS: usize = 2048;

/// `m` applied to (x, y).
pub fn apply(m: &Affine, x: f32, y: f32) -> [f32; 2] {
    [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]
}

/// `p` after `c`: (x, y) ↦ p(c(x, y)).
pub fn compose(p: &Affine, c: &Affine) -> Affine {
    Affine {
        a: p.a * c.a + p.c * c.b,
        b: p.b * c.a + p.d * c.b,
        c: p.a * c.c + p.c * c.d,
        d: p.b * c.c + p.d * c.d,
        e: p.a * c.e + p.c * c.f + p.e,
        f: p.b * c.e + p.d * c.f + p.f,
    }
}

/// The inverse of `m`, or `None` when it is singular or its inverse is not finite.
pub fn invert(m: &Affine) -> Option<Affine> {
    let det = f64::from(m.a) * f64::from(m.d) - f64::from(m.b) * f64::from(m.c);
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let (a, b, c, d, e, f) = (f64::from(m.a), f64::from(m.b), f64::from(m.c), f64::from(m.d), f64::from(m.e), f64::from(m.f));
    let inv = Affine {
        a: (d / det) as f32,
        b: (-b / det) as f32,
        c: (-c / det) as f32,
        d: (a / det) as f32,
        e: ((c * f - d * e) / det) as f32,
        f: ((b * e - a * f) / det) as f32,
    };
    [inv.a, inv.b, inv.c, inv.d, inv.e, inv.f].iter().all(|v| v.is_finite()).then_some(inv)
}

/// True when every entry of `m` is finite.
pub fn is_finite(m: &Affine) -> bool {
    [m.a, m.b, m.c, m.d, m.e, m.f].iter().all(|v| v.is_finite())
}

/// Straight-alpha colour to premultiplied, times `opacity`.
pub fn premultiplied(c: &Color, opacity: f32) -> [f32; 4] {
    let a = (c.a * opacity).clamp(0.0, 1.0);
    [c.r.clamp(0.0, 1.0) * a, c.g.clamp(0.0, 1.0) * a, c.b.clamp(0.0, 1.0) * a, a]
}

/// Local coordinates to `(t, 0)` for a linear gradient from (x0, y0) to (x1, y1).
pub fn linear_map(x0: f32, y0: f32, x1: f32, y1: f32) -> Affine {
    let (dx, dy) = (f64::from(x1) - f64::from(x0), f64::from(y1) - f64::from(y0));
    let len2 = dx * dx + dy * dy;
    if len2 <= 0.0 || !len2.is_finite() {
        // Coinciding points: the last stop everywhere.
        return Affine { a: 0.0, b: 0.0, c: 0.0, d: 0.0, e: 1.0, f: 0.0 };
    }
    let e = -(dx * f64::from(x0) + dy * f64::from(y0)) / len2;
    Affine { a: (dx / len2) as f32, b: 0.0, c: (dy / len2) as f32, d: 0.0, e: e as f32, f: 0.0 }
}

/// Local coordinates to the offset from (cx, cy) in radii.
pub fn radial_map(cx: f32, cy: f32, radius: f32) -> Affine {
    let r = radius.max(f32::MIN_POSITIVE);
    Affine { a: 1.0 / r, b: 0.0, c: 0.0, d: 1.0 / r, e: -cx / r, f: -cy / r }
}

/// The colour of `stops` at `t`, premultiplied, interpolated in premultiplied sRGB.
pub fn stop_color(stops: &[GradientStop], t: f32) -> [f32; 4] {
    let (Some(first), Some(last)) = (stops.first(), stops.last()) else { return [0.0; 4] };
    if t <= first.offset {
        return premultiplied(&first.color, 1.0);
    }
    for pair in stops.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if t < b.offset {
            let span = b.offset - a.offset;
            let f = if span > 0.0 { ((t - a.offset) / span).clamp(0.0, 1.0) } else { 1.0 };
            let (ca, cb) = (premultiplied(&a.color, 1.0), premultiplied(&b.color, 1.0));
            return std::array::from_fn(|i| ca[i] + (cb[i] - ca[i]) * f);
        }
    }
    premultiplied(&last.color, 1.0)
}

/// Gradient ramps of one draw list, deduplicated by their stops.
#[derive(Default)]
pub struct Ramps {
    index: HashMap<Vec<u32>, u32>,
    pub texels: Vec<[f32; 4]>,
}

impl Ramps {
    /// The ramp index of `stops`, baking it on first use; `None` past [`MAX_RAMPS`].
    pub fn get(&mut self, stops: &[GradientStop]) -> Option<u32> {
        let key: Vec<u32> = stops.iter().flat_map(|s| [s.offset, s.color.r, s.color.g, s.color.b, s.color.a]).map(f32::to_bits).collect();
        if let Some(i) = self.index.get(&key) {
            return Some(*i);
        }
        if self.index.len() >= MAX_RAMPS {
            return None;
        }
        let i = u32::try_from(self.index.len()).ok()?;
        self.texels.extend((0..RAMP_TEXELS).map(|k| stop_color(stops, k as f32 / (RAMP_TEXELS - 1) as f32)));
        self.index.insert(key, i);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(offset: f32, r: f32, a: f32) -> GradientStop {
        GradientStop { offset, color: Color { r, g: 0.0, b: 0.0, a } }
    }

    #[test]
    fn stops_mix_premultiplied_and_pad_at_both_ends() {
        let stops = [stop(0.25, 1.0, 1.0), stop(0.75, 1.0, 0.0)];
        assert_eq!(stop_color(&stops, 0.0), [1.0, 0.0, 0.0, 1.0]);
        assert_eq!(stop_color(&stops, 1.0), [0.0; 4]);
        // Half way to transparent red is half-transparent red, not a darker red.
        let mid = stop_color(&stops, 0.5);
        assert!((mid[0] - 0.5).abs() < 1e-6 && (mid[3] - 0.5).abs() < 1e-6, "{mid:?}");
        // A hard stop: two stops at one offset switch there.
        let hard = [stop(0.0, 0.0, 1.0), stop(0.5, 0.0, 1.0), stop(0.5, 1.0, 1.0), stop(1.0, 1.0, 1.0)];
        assert_eq!(stop_color(&hard, 0.49)[0], 0.0);
        assert_eq!(stop_color(&hard, 0.51)[0], 1.0);
    }

    #[test]
    fn gradient_maps_put_the_end_points_at_zero_and_one() {
        let m = linear_map(10.0, 0.0, 30.0, 0.0);
        assert_eq!(apply(&m, 10.0, 5.0)[0], 0.0);
        assert_eq!(apply(&m, 30.0, -5.0)[0], 1.0);
        assert_eq!(apply(&linear_map(1.0, 1.0, 1.0, 1.0), 7.0, 7.0)[0], 1.0);
        let r = radial_map(10.0, 10.0, 5.0);
        assert_eq!(apply(&r, 15.0, 10.0), [1.0, 0.0]);
        assert!(invert(&Affine { a: 0.0, b: 0.0, c: 0.0, d: 0.0, e: 1.0, f: 1.0 }).is_none());
        let t = Affine { a: 2.0, b: 0.0, c: 0.0, d: 4.0, e: 10.0, f: 20.0 };
        let back = invert(&t).map(|i| apply(&i, 12.0, 24.0));
        assert_eq!(back, Some([1.0, 1.0]));
    }

    #[test]
    fn ramps_are_shared_by_equal_stops_and_capped() {
        let mut ramps = Ramps::default();
        let a = [stop(0.0, 1.0, 1.0)];
        assert_eq!(ramps.get(&a), Some(0));
        assert_eq!(ramps.get(&a), Some(0));
        assert_eq!(ramps.get(&[stop(0.0, 0.5, 1.0)]), Some(1));
        assert_eq!(ramps.texels.len(), 2 * RAMP_TEXELS);
    }
}
