//! Stinger: two angled colour bands sweep across the frame; while they cover it
//! completely (around 40–50 % of the way) the scenes cut, so the cut itself is never seen.
//! The bands are the transition's overlay, drawn above both scenes — the way a
//! broadcast stinger (an animated wipe graphic) hides a cut. No props.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p transition-stinger`,
//! then use `target/wasm32-wasip2/guest/transition_stinger.wasm` as a take's
//! transition (e.g. `transition = ".../transition_stinger.wasm"` in a show file's cue).

use showrunner_guest::prelude::*;

/// The lead band and the trailing band.
const LEAD: Color = Color::rgb(0.91, 0.23, 0.23);
const TRAIL: Color = Color::rgb(0.96, 0.76, 0.19);
/// Progress at which the scenes cut, inside the stretch the lead band covers the frame.
const CUT_AT: f32 = 0.46;

pub struct Stinger;

/// Geometry of the bands for a `w`×`h` frame.
struct Bands {
    /// Horizontal offset between a band's top and bottom edges.
    slant: f32,
    /// Band width: two frames, so a band covers the frame for a good stretch.
    width: f32,
    w: f32,
}

impl Bands {
    fn new(w: f32, h: f32) -> Bands {
        Bands { slant: h * 0.35, width: w * 2.0, w }
    }

    /// Left edge (at the bottom) of a band at travel `t` (0..1): from just right of
    /// the frame to just left of it.
    fn x(&self, t: f32) -> f32 {
        let distance = self.w + self.width + self.slant;
        self.w - Easing::InOutCubic.apply(t.clamp(0.0, 1.0)) * distance
    }

    /// True when a band at `x` covers the whole frame (what the cut relies on).
    #[cfg(test)]
    fn covers(&self, x: f32) -> bool {
        x + self.slant <= 0.0 && x + self.width >= self.w
    }

    fn path(&self, x: f32, h: f32) -> Path {
        PathBuilder::new().move_to(x + self.slant, 0.0).line_to(x + self.slant + self.width, 0.0).line_to(x + self.width, h).line_to(x, h).close().build()
    }
}

/// How far ahead the lead band travels of the trailing one.
const LAG: f32 = 0.08;

/// Travel of the lead and the trailing band at `progress`: the lead finishes first,
/// both are off the frame at 1.
fn travel(progress: f32) -> (f32, f32) {
    ((progress * (1.0 + LAG)).min(1.0), (progress * (1.0 + LAG) - LAG).max(0.0))
}

impl Transition for Stinger {
    fn describe() -> ModuleInfo {
        ModuleInfo { name: "Stinger".into(), version: env!("CARGO_PKG_VERSION").into(), props: vec![] }
    }

    fn mix(progress: f32, frame: &FrameInfo, overlay: &mut Canvas) -> Views {
        let (w, h) = (frame.width as f32, frame.height as f32);
        let bands = Bands::new(w, h);
        if progress > 0.0 && progress < 1.0 {
            let (lead, trail) = travel(progress);
            overlay.fill(bands.path(bands.x(trail), h), TRAIL);
            overlay.fill(bands.path(bands.x(lead), h), LEAD);
        }
        let shown = |on: bool| if on { SceneView::normal() } else { SceneView::with_opacity(0.0) };
        Views { outgoing: shown(progress < CUT_AT), incoming: shown(progress >= CUT_AT), incoming_on_top: true }
    }
}

export_transition!(Stinger);

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(progress: f32) -> (Views, Canvas) {
        let frame = FrameInfo { index: 0, time: 0.0, width: 1920, height: 1080, fps_num: 30, fps_den: 1 };
        let mut overlay = Canvas::new();
        (Stinger::mix(progress, &frame, &mut overlay), overlay)
    }

    #[test]
    fn cuts_halfway_with_one_scene_shown_at_a_time() {
        for i in 0..=100 {
            let p = i as f32 / 100.0;
            let views = mix(p).0;
            assert!((views.outgoing.opacity + views.incoming.opacity - 1.0).abs() < 1e-6);
            assert_eq!(views.incoming.opacity == 1.0, p >= CUT_AT, "at {p}");
        }
    }

    #[test]
    fn the_lead_band_covers_the_whole_frame_around_the_cut_and_all_is_clear_at_the_ends() {
        assert!(mix(0.0).1.is_empty());
        assert!(mix(1.0).1.is_empty());
        let bands = Bands::new(1920.0, 1080.0);
        // Covered from a little before the cut to a little after it, so a frame at
        // 30 fps in a 1 s transition lands inside the cover on both sides of the cut.
        for p in [CUT_AT - 0.03, CUT_AT, CUT_AT + 0.03] {
            assert!(bands.covers(bands.x(travel(p).0)), "not covered at {p}");
        }
        // Right of the frame at the start, left of it at the end.
        assert!(bands.x(0.0) >= 1920.0);
        assert!(bands.x(1.0) + bands.slant + bands.width <= 0.0);
    }
}
