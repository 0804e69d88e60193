//! [`PathBuilder`]: builds the flat `path` record (verbs + points) of the WIT.

use crate::{Path, Rect};

const MOVE: u8 = 0;
const LINE: u8 = 1;
const QUAD: u8 = 2;
const CUBIC: u8 = 3;
const CLOSE: u8 = 4;

/// Control-point distance for approximating a quarter circle with a cubic.
const KAPPA: f32 = 0.552_284_8;

/// Builds a path from segments and shapes.
///
/// ```
/// use showrunner_guest::PathBuilder;
/// let path = PathBuilder::new().move_to(0.0, 0.0).line_to(100.0, 0.0).line_to(50.0, 80.0).close().build();
/// assert_eq!(path.verbs.len(), 4);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PathBuilder {
    verbs: Vec<u8>,
    points: Vec<f32>,
}

impl PathBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn move_to(mut self, x: f32, y: f32) -> Self {
        self.verbs.push(MOVE);
        self.points.extend_from_slice(&[x, y]);
        self
    }

    pub fn line_to(mut self, x: f32, y: f32) -> Self {
        self.verbs.push(LINE);
        self.points.extend_from_slice(&[x, y]);
        self
    }

    pub fn quad_to(mut self, cx: f32, cy: f32, x: f32, y: f32) -> Self {
        self.verbs.push(QUAD);
        self.points.extend_from_slice(&[cx, cy, x, y]);
        self
    }

    pub fn cubic_to(mut self, c1x: f32, c1y: f32, c2x: f32, c2y: f32, x: f32, y: f32) -> Self {
        self.verbs.push(CUBIC);
        self.points.extend_from_slice(&[c1x, c1y, c2x, c2y, x, y]);
        self
    }

    pub fn close(mut self) -> Self {
        self.verbs.push(CLOSE);
        self
    }

    /// Adds a closed rectangle.
    pub fn rect(self, r: Rect) -> Self {
        self.move_to(r.x, r.y)
            .line_to(r.x + r.width, r.y)
            .line_to(r.x + r.width, r.y + r.height)
            .line_to(r.x, r.y + r.height)
            .close()
    }

    /// Adds a closed rectangle with corners rounded by `radius` (clamped to half
    /// the shorter side).
    pub fn rounded_rect(self, r: Rect, radius: f32) -> Self {
        let rad = radius.max(0.0).min(r.width.abs() / 2.0).min(r.height.abs() / 2.0);
        if rad <= 0.0 {
            return self.rect(r);
        }
        let k = rad * (1.0 - KAPPA);
        let (x0, y0, x1, y1) = (r.x, r.y, r.x + r.width, r.y + r.height);
        self.move_to(x0 + rad, y0)
            .line_to(x1 - rad, y0)
            .cubic_to(x1 - k, y0, x1, y0 + k, x1, y0 + rad)
            .line_to(x1, y1 - rad)
            .cubic_to(x1, y1 - k, x1 - k, y1, x1 - rad, y1)
            .line_to(x0 + rad, y1)
            .cubic_to(x0 + k, y1, x0, y1 - k, x0, y1 - rad)
            .line_to(x0, y0 + rad)
            .cubic_to(x0, y0 + k, x0 + k, y0, x0 + rad, y0)
            .close()
    }

    /// Adds a closed ellipse centred on (cx, cy).
    pub fn ellipse(self, cx: f32, cy: f32, rx: f32, ry: f32) -> Self {
        let (kx, ky) = (rx * KAPPA, ry * KAPPA);
        self.move_to(cx + rx, cy)
            .cubic_to(cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry)
            .cubic_to(cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy)
            .cubic_to(cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry)
            .cubic_to(cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy)
            .close()
    }

    /// Adds a closed circle.
    pub fn circle(self, cx: f32, cy: f32, r: f32) -> Self {
        self.ellipse(cx, cy, r, r)
    }

    pub fn build(self) -> Path {
        Path { verbs: self.verbs, points: self.points }
    }
}

impl Path {
    /// A closed rectangle.
    pub fn rect(r: Rect) -> Path {
        PathBuilder::new().rect(r).build()
    }

    /// A closed rounded rectangle.
    pub fn rounded_rect(r: Rect, radius: f32) -> Path {
        PathBuilder::new().rounded_rect(r, radius).build()
    }

    /// A closed circle.
    pub fn circle(cx: f32, cy: f32, r: f32) -> Path {
        PathBuilder::new().circle(cx, cy, r).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_consumes_its_points() {
        let p = PathBuilder::new()
            .move_to(0.0, 0.0)
            .line_to(1.0, 0.0)
            .quad_to(1.0, 1.0, 0.0, 1.0)
            .cubic_to(0.0, 0.5, 0.5, 0.5, 0.0, 0.0)
            .close()
            .build();
        assert_eq!(p.verbs, vec![MOVE, LINE, QUAD, CUBIC, CLOSE]);
        assert_eq!(p.points.len(), 2 * (1 + 1 + 2 + 3));
    }

    #[test]
    fn rounded_rect_radius_is_clamped_to_half_the_short_side() {
        let p = Path::rounded_rect(Rect::new(0.0, 0.0, 100.0, 10.0), 50.0);
        let max_y = p.points.chunks(2).map(|xy| xy[1]).fold(f32::MIN, f32::max);
        assert!(max_y <= 10.0 + 1e-4, "{max_y}");
    }
}
