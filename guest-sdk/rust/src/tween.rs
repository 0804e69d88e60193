//! Easing curves, tweens and [`Appear`], the in/out animation state most overlays need.

/// An easing curve mapping 0..=1 to 0..=1 (`OutBack` overshoots a little).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Easing {
    #[default]
    Linear,
    InQuad,
    OutQuad,
    InOutQuad,
    InCubic,
    OutCubic,
    InOutCubic,
    OutBack,
}

impl Easing {
    /// Eased value at `t` (clamped to 0..=1).
    pub fn apply(self, t: f32) -> f32 {
        let t = t.clamp(0.0, 1.0);
        match self {
            Easing::Linear => t,
            Easing::InQuad => t * t,
            Easing::OutQuad => 1.0 - (1.0 - t) * (1.0 - t),
            Easing::InOutQuad => {
                if t < 0.5 { 2.0 * t * t } else { 1.0 - (-2.0 * t + 2.0).powi(2) / 2.0 }
            }
            Easing::InCubic => t * t * t,
            Easing::OutCubic => 1.0 - (1.0 - t).powi(3),
            Easing::InOutCubic => {
                if t < 0.5 { 4.0 * t * t * t } else { 1.0 - (-2.0 * t + 2.0).powi(3) / 2.0 }
            }
            Easing::OutBack => {
                let c1 = 1.701_58;
                let c3 = c1 + 1.0;
                1.0 + c3 * (t - 1.0).powi(3) + c1 * (t - 1.0).powi(2)
            }
        }
    }
}

/// Linear interpolation from `a` to `b`.
pub fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// A value animated from `from` to `to` over `duration` seconds from `start`.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Tween {
    pub from: f32,
    pub to: f32,
    pub start: f64,
    pub duration: f64,
    pub easing: Easing,
}

impl Tween {
    pub fn new(from: f32, to: f32, start: f64, duration: f64, easing: Easing) -> Tween {
        Tween { from, to, start, duration, easing }
    }

    /// Linear progress 0..=1 at `time`.
    pub fn progress(&self, time: f64) -> f32 {
        if self.duration <= 0.0 {
            return if time >= self.start { 1.0 } else { 0.0 };
        }
        ((time - self.start) / self.duration).clamp(0.0, 1.0) as f32
    }

    /// Eased value at `time`.
    pub fn value(&self, time: f64) -> f32 {
        lerp(self.from, self.to, self.easing.apply(self.progress(time)))
    }

    pub fn done(&self, time: f64) -> bool {
        time >= self.start + self.duration
    }
}

/// Where an [`Appear`] animation is.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Hidden,
    /// `play` arrived; the animation starts at the next tick.
    InRequested,
    In { start: f64 },
    Shown,
    OutRequested,
    Out { start: f64 },
}

/// The in/out animation of an overlay: `play()` animates it in, `stop()` out.
/// Because events carry no time, a request starts at the next [`Appear::update`].
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Appear {
    pub phase: Phase,
    pub in_seconds: f64,
    pub out_seconds: f64,
}

impl Appear {
    pub fn new(in_seconds: f64, out_seconds: f64) -> Appear {
        Appear { phase: Phase::Hidden, in_seconds, out_seconds }
    }

    pub fn play(&mut self) {
        if matches!(self.phase, Phase::Hidden | Phase::OutRequested | Phase::Out { .. }) {
            self.phase = Phase::InRequested;
        }
    }

    pub fn stop(&mut self) {
        if matches!(self.phase, Phase::Shown | Phase::InRequested | Phase::In { .. }) {
            self.phase = Phase::OutRequested;
        }
    }

    /// Advances to `time` and returns visibility 0 (hidden) ..= 1 (fully in), linear.
    pub fn update(&mut self, time: f64) -> f32 {
        self.phase = match self.phase {
            Phase::InRequested => Phase::In { start: time },
            Phase::OutRequested => Phase::Out { start: time },
            Phase::In { start } if time - start >= self.in_seconds => Phase::Shown,
            Phase::Out { start } if time - start >= self.out_seconds => Phase::Hidden,
            other => other,
        };
        match self.phase {
            Phase::Hidden | Phase::InRequested => 0.0,
            Phase::Shown | Phase::OutRequested => 1.0,
            Phase::In { start } => Tween::new(0.0, 1.0, start, self.in_seconds, Easing::Linear).value(time),
            Phase::Out { start } => Tween::new(1.0, 0.0, start, self.out_seconds, Easing::Linear).value(time),
        }
    }

    pub fn is_visible(&self) -> bool {
        !matches!(self.phase, Phase::Hidden | Phase::InRequested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easings_start_at_zero_and_end_at_one() {
        for e in [Easing::Linear, Easing::InQuad, Easing::OutQuad, Easing::InOutQuad, Easing::InCubic, Easing::OutCubic, Easing::InOutCubic, Easing::OutBack] {
            assert!(e.apply(0.0).abs() < 1e-5, "{e:?}");
            assert!((e.apply(1.0) - 1.0).abs() < 1e-5, "{e:?}");
        }
    }

    #[test]
    fn appear_runs_in_then_out_from_the_tick_after_the_request() {
        let mut a = Appear::new(1.0, 0.5);
        assert_eq!(a.update(0.0), 0.0);
        a.play();
        assert_eq!(a.update(10.0), 0.0);
        assert!((a.update(10.5) - 0.5).abs() < 1e-6);
        assert_eq!(a.update(11.0), 1.0);
        a.stop();
        assert_eq!(a.update(20.0), 1.0);
        assert_eq!(a.update(20.5), 0.0);
        assert!(!a.is_visible());
    }
}
