//! Draw-list validation: the gate between untrusted module output and the renderer.
//!
//! Caps sizes (ops, path points, text, nesting), checks every float (NaN, infinity,
//! absurd magnitudes) and every enum-like byte, and balances groups: a `pop` with no
//! open group is rejected, groups left open at the end are closed (a repair that is
//! reported). Nothing here allocates per op, so validating is cheap next to drawing.

use crate::drawlist::*;

/// Size caps for one draw list. The defaults fit any sane overlay at 4K.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawListLimits {
    /// Ops per frame.
    pub max_ops: usize,
    /// (x, y) points in one path.
    pub max_path_points: usize,
    /// (x, y) points in the whole frame.
    pub max_total_points: usize,
    /// Bytes of one text run.
    pub max_text_bytes: usize,
    /// Bytes of an asset, input or font family name.
    pub max_name_bytes: usize,
    /// Open groups at once.
    pub max_depth: usize,
    /// Gradient stops or dash entries.
    pub max_stops: usize,
    /// Largest absolute coordinate or size, in pixels.
    pub max_magnitude: f32,
}

impl Default for DrawListLimits {
    fn default() -> Self {
        DrawListLimits {
            max_ops: 20_000,
            max_path_points: 100_000,
            max_total_points: 1_000_000,
            max_text_bytes: 4096,
            max_name_bytes: 256,
            max_depth: 32,
            max_stops: 64,
            max_magnitude: 1.0e6,
        }
    }
}

/// What was wrong with a draw list, and at which op.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidDrawList {
    #[error("{count} ops exceed the cap of {max}")]
    TooManyOps { count: usize, max: usize },
    #[error("op {op} ({kind}): {field} is {value}, which is not a finite number")]
    NotFinite { op: usize, kind: &'static str, field: &'static str, value: f32 },
    #[error("op {op} ({kind}): {field} = {value} is outside {min}..={max}")]
    OutOfRange { op: usize, kind: &'static str, field: &'static str, value: f32, min: f32, max: f32 },
    #[error("op {op} ({kind}): {what}")]
    Malformed { op: usize, kind: &'static str, what: String },
    #[error("op {op} ({kind}): {what} is {len}, over the cap of {max}")]
    TooLarge { op: usize, kind: &'static str, what: &'static str, len: usize, max: usize },
    #[error("op {op}: pop without an open group")]
    UnbalancedPop { op: usize },
    #[error("op {op}: groups nested deeper than {max}")]
    TooDeep { op: usize, max: usize },
}

/// Repairs made to an accepted draw list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repairs {
    /// Groups left open at the end and closed by the validator.
    pub closed_groups: usize,
}

/// Validates `ops` in place; on success the list is safe to render (groups balanced).
pub fn validate(ops: &mut Vec<DrawOp>, limits: &DrawListLimits) -> Result<Repairs, InvalidDrawList> {
    if ops.len() > limits.max_ops {
        return Err(InvalidDrawList::TooManyOps { count: ops.len(), max: limits.max_ops });
    }
    let mut depth = 0usize;
    let mut total_points = 0usize;
    for (i, op) in ops.iter().enumerate() {
        let mut c = Checker { op: i, kind: op.kind(), limits, total_points: &mut total_points };
        match op {
            DrawOp::Push(g) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(InvalidDrawList::TooDeep { op: i, max: limits.max_depth });
                }
                c.affine("transform", &g.transform)?;
                c.unit("opacity", g.opacity)?;
                if let Some(clip) = &g.clip {
                    c.path(clip)?;
                }
            }
            DrawOp::Pop => {
                depth = depth.checked_sub(1).ok_or(InvalidDrawList::UnbalancedPop { op: i })?;
            }
            DrawOp::Fill(f) => {
                c.path(&f.path)?;
                c.paint(&f.paint)?;
            }
            DrawOp::Stroke(s) => {
                c.path(&s.path)?;
                c.paint(&s.paint)?;
                c.size("width", s.width, false)?;
                c.range("miter-limit", s.miter_limit, 1.0, 100.0)?;
                c.len("dash entries", s.dash.len(), limits.max_stops)?;
                for d in &s.dash {
                    c.size("dash", *d, true)?;
                }
                if !s.dash.is_empty() && s.dash.iter().all(|d| *d == 0.0) {
                    return Err(c.malformed("dash pattern is all zeros".into()));
                }
                c.coord("dash-offset", s.dash_offset)?;
            }
            DrawOp::Text(t) => {
                c.len("text bytes", t.text.len(), limits.max_text_bytes)?;
                c.len("family bytes", t.family.len(), limits.max_name_bytes)?;
                if !(100..=900).contains(&t.weight) {
                    return Err(c.malformed(format!("weight {} is outside 100..=900", t.weight)));
                }
                c.size("size", t.size, false)?;
                c.coord("x", t.x)?;
                c.coord("y", t.y)?;
                c.paint(&t.paint)?;
                if let Some(w) = t.max_width {
                    c.size("max-width", w, true)?;
                }
            }
            DrawOp::Image(im) => {
                c.len("asset name bytes", im.asset.len(), limits.max_name_bytes)?;
                c.rect(&im.dest)?;
                c.unit("opacity", im.opacity)?;
            }
            DrawOp::Video(v) => {
                c.len("input name bytes", v.input.len(), limits.max_name_bytes)?;
                c.rect(&v.dest)?;
                c.unit("opacity", v.opacity)?;
            }
        }
    }
    let repairs = Repairs { closed_groups: depth };
    ops.extend(std::iter::repeat_n(DrawOp::Pop, depth));
    Ok(repairs)
}

/// Validates a transition's plan: both views and the overlay.
pub fn validate_mix(plan: &mut MixPlan, limits: &DrawListLimits) -> Result<Repairs, InvalidDrawList> {
    let mut total_points = 0usize;
    for view in [&plan.outgoing, &plan.incoming] {
        let mut c = Checker { op: 0, kind: "scene-view", limits, total_points: &mut total_points };
        c.affine("transform", &view.transform)?;
        c.unit("opacity", view.opacity)?;
        if let Some(clip) = &view.clip {
            c.path(clip)?;
        }
    }
    validate(&mut plan.overlay, limits)
}

struct Checker<'a> {
    op: usize,
    kind: &'static str,
    limits: &'a DrawListLimits,
    total_points: &'a mut usize,
}

impl Checker<'_> {
    fn finite(&self, field: &'static str, value: f32) -> Result<(), InvalidDrawList> {
        if value.is_finite() { Ok(()) } else { Err(InvalidDrawList::NotFinite { op: self.op, kind: self.kind, field, value }) }
    }

    fn range(&self, field: &'static str, value: f32, min: f32, max: f32) -> Result<(), InvalidDrawList> {
        self.finite(field, value)?;
        if (min..=max).contains(&value) {
            Ok(())
        } else {
            Err(InvalidDrawList::OutOfRange { op: self.op, kind: self.kind, field, value, min, max })
        }
    }

    fn coord(&self, field: &'static str, value: f32) -> Result<(), InvalidDrawList> {
        let m = self.limits.max_magnitude;
        self.range(field, value, -m, m)
    }

    fn unit(&self, field: &'static str, value: f32) -> Result<(), InvalidDrawList> {
        self.range(field, value, 0.0, 1.0)
    }

    /// A length: non-negative (zero allowed only if `zero_ok`) and below the cap.
    fn size(&self, field: &'static str, value: f32, zero_ok: bool) -> Result<(), InvalidDrawList> {
        self.range(field, value, 0.0, self.limits.max_magnitude)?;
        if value == 0.0 && !zero_ok {
            return Err(self.malformed(format!("{field} must be greater than zero")));
        }
        Ok(())
    }

    fn len(&self, what: &'static str, len: usize, max: usize) -> Result<(), InvalidDrawList> {
        if len > max { Err(InvalidDrawList::TooLarge { op: self.op, kind: self.kind, what, len, max }) } else { Ok(()) }
    }

    fn malformed(&self, what: String) -> InvalidDrawList {
        InvalidDrawList::Malformed { op: self.op, kind: self.kind, what }
    }

    fn rect(&self, r: &Rect) -> Result<(), InvalidDrawList> {
        self.coord("x", r.x)?;
        self.coord("y", r.y)?;
        self.size("width", r.width, true)?;
        self.size("height", r.height, true)
    }

    fn affine(&self, field: &'static str, t: &Affine) -> Result<(), InvalidDrawList> {
        for v in [t.a, t.b, t.c, t.d, t.e, t.f] {
            self.coord(field, v)?;
        }
        Ok(())
    }

    fn color(&self, c: &Color) -> Result<(), InvalidDrawList> {
        for (field, v) in [("color.r", c.r), ("color.g", c.g), ("color.b", c.b), ("color.a", c.a)] {
            self.unit(field, v)?;
        }
        Ok(())
    }

    fn stops(&self, stops: &[GradientStop]) -> Result<(), InvalidDrawList> {
        self.len("gradient stops", stops.len(), self.limits.max_stops)?;
        if stops.is_empty() {
            return Err(self.malformed("gradient has no stops".into()));
        }
        let mut last = 0.0f32;
        for s in stops {
            self.unit("stop offset", s.offset)?;
            if s.offset < last {
                return Err(self.malformed("gradient stop offsets decrease".into()));
            }
            last = s.offset;
            self.color(&s.color)?;
        }
        Ok(())
    }

    fn paint(&self, p: &Paint) -> Result<(), InvalidDrawList> {
        match p {
            Paint::Solid(c) => self.color(c),
            Paint::Linear(g) => {
                for v in [g.x0, g.y0, g.x1, g.y1] {
                    self.coord("gradient point", v)?;
                }
                self.stops(&g.stops)
            }
            Paint::Radial(g) => {
                self.coord("gradient centre", g.cx)?;
                self.coord("gradient centre", g.cy)?;
                self.size("gradient radius", g.radius, false)?;
                self.stops(&g.stops)
            }
            Paint::Image(f) => {
                self.len("asset name bytes", f.asset.len(), self.limits.max_name_bytes)?;
                self.affine("image transform", &f.transform)?;
                self.unit("image opacity", f.opacity)
            }
        }
    }

    fn path(&mut self, p: &Path) -> Result<(), InvalidDrawList> {
        if !p.points.len().is_multiple_of(2) {
            return Err(self.malformed(format!("path has an odd number of floats ({})", p.points.len())));
        }
        let points = p.points.len() / 2;
        self.len("path points", points, self.limits.max_path_points)?;
        *self.total_points += points;
        if *self.total_points > self.limits.max_total_points {
            return Err(self.malformed(format!("frame has more than {} path points", self.limits.max_total_points)));
        }
        let mut needed = 0usize;
        for (i, v) in p.verbs.iter().enumerate() {
            let n = verb::points(*v).ok_or_else(|| self.malformed(format!("path verb {i} is {v}, not 0..=4")))?;
            if i == 0 && *v != verb::MOVE {
                return Err(self.malformed("path does not start with move-to".into()));
            }
            needed += n;
        }
        if needed != points {
            return Err(self.malformed(format!("path verbs need {needed} points, it has {points}")));
        }
        for v in &p.points {
            self.coord("path point", *v)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Color = Color { r: 1.0, g: 1.0, b: 1.0, a: 1.0 };

    fn rect_path(x: f32) -> Path {
        Path { verbs: vec![0, 1, 1, 1, 4], points: vec![x, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0] }
    }

    fn fill(x: f32) -> DrawOp {
        DrawOp::Fill(Fill { path: rect_path(x), paint: Paint::Solid(WHITE), rule: FillRule::NonZero })
    }

    fn push() -> DrawOp {
        DrawOp::Push(Group { transform: Affine::IDENTITY, opacity: 1.0, clip: None, blend: BlendMode::Normal })
    }

    #[test]
    fn a_good_list_passes_untouched() {
        let mut ops = vec![push(), fill(0.0), DrawOp::Pop];
        assert_eq!(validate(&mut ops, &DrawListLimits::default()), Ok(Repairs::default()));
        assert_eq!(ops.len(), 3);
    }

    #[test]
    fn nan_and_infinity_are_rejected_with_the_op_and_field() {
        let err = validate(&mut vec![fill(0.0), fill(f32::NAN)], &DrawListLimits::default()).unwrap_err();
        assert!(matches!(err, InvalidDrawList::NotFinite { op: 1, field: "path point", .. }), "{err}");
        let err = validate(&mut vec![fill(f32::INFINITY)], &DrawListLimits::default()).unwrap_err();
        assert!(matches!(err, InvalidDrawList::NotFinite { .. }));
        let err = validate(&mut vec![fill(5.0e7)], &DrawListLimits::default()).unwrap_err();
        assert!(matches!(err, InvalidDrawList::OutOfRange { .. }), "{err}");
    }

    #[test]
    fn open_groups_are_closed_and_stray_pops_rejected() {
        let mut ops = vec![push(), push(), fill(0.0)];
        assert_eq!(validate(&mut ops, &DrawListLimits::default()).map(|r| r.closed_groups), Ok(2));
        assert_eq!(ops.iter().filter(|o| matches!(o, DrawOp::Pop)).count(), 2);
        let err = validate(&mut vec![fill(0.0), DrawOp::Pop], &DrawListLimits::default()).unwrap_err();
        assert_eq!(err, InvalidDrawList::UnbalancedPop { op: 1 });
    }

    #[test]
    fn caps_on_ops_depth_text_and_paths() {
        let limits = DrawListLimits { max_ops: 3, max_depth: 2, ..DrawListLimits::default() };
        assert!(matches!(validate(&mut vec![fill(0.0); 4], &limits), Err(InvalidDrawList::TooManyOps { count: 4, max: 3 })));
        assert!(matches!(validate(&mut vec![push(), push(), push()], &limits), Err(InvalidDrawList::TooDeep { op: 2, .. })));
        let text = DrawOp::Text(TextRun {
            text: "x".repeat(5000),
            family: "Inter".into(),
            weight: 400,
            size: 20.0,
            x: 0.0,
            y: 0.0,
            align: TextAlign::Start,
            paint: Paint::Solid(WHITE),
            max_width: None,
        });
        assert!(matches!(validate(&mut vec![text], &DrawListLimits::default()), Err(InvalidDrawList::TooLarge { what: "text bytes", .. })));
        let bad_verbs = DrawOp::Fill(Fill { path: Path { verbs: vec![0, 9], points: vec![0.0; 4] }, paint: Paint::Solid(WHITE), rule: FillRule::EvenOdd });
        assert!(validate(&mut vec![bad_verbs], &DrawListLimits::default()).unwrap_err().to_string().contains("not 0..=4"));
        let short = DrawOp::Fill(Fill { path: Path { verbs: vec![0, 3], points: vec![0.0; 4] }, paint: Paint::Solid(WHITE), rule: FillRule::EvenOdd });
        assert!(validate(&mut vec![short], &DrawListLimits::default()).unwrap_err().to_string().contains("need 4 points"));
    }

    #[test]
    fn colours_and_gradients_are_checked() {
        let over = DrawOp::Fill(Fill { path: rect_path(0.0), paint: Paint::Solid(Color { r: 2.0, ..WHITE }), rule: FillRule::NonZero });
        assert!(matches!(validate(&mut vec![over], &DrawListLimits::default()), Err(InvalidDrawList::OutOfRange { field: "color.r", .. })));
        let stops = vec![GradientStop { offset: 0.8, color: WHITE }, GradientStop { offset: 0.2, color: WHITE }];
        let grad = DrawOp::Fill(Fill { path: rect_path(0.0), paint: Paint::Linear(LinearGradient { x0: 0.0, y0: 0.0, x1: 1.0, y1: 0.0, stops }), rule: FillRule::NonZero });
        assert!(validate(&mut vec![grad], &DrawListLimits::default()).unwrap_err().to_string().contains("decrease"));
    }
}
