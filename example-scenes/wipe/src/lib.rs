//! Wipe: an accent bar sweeps left to right, revealing the incoming scene behind it.
//!
//! Each scene is clipped to its side of the bar (a clip per scene, so transparent
//! parts of the incoming scene never show the outgoing one). The bar is drawn in the
//! overlay, above both; it starts just off the left edge and ends just off the right
//! one. No props.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p transition-wipe`, then
//! use `target/wasm32-wasip2/guest/transition_wipe.wasm` as a layer's transition.

use showrunner_guest::prelude::*;

/// Bar width at 1080p.
const BAR: f32 = 24.0;
/// Width of the glow trailing the bar at 1080p.
const GLOW: f32 = 90.0;
const ACCENT: Color = Color::hex(0xF2_C1_2E);

pub struct Wipe;

impl Transition for Wipe {
    fn describe() -> ModuleInfo {
        ModuleInfo { name: "Wipe".into(), version: env!("CARGO_PKG_VERSION").into(), props: vec![] }
    }

    fn mix(progress: f32, frame: &FrameInfo, overlay: &mut Canvas) -> Views {
        let (w, h) = (frame.width as f32, frame.height as f32);
        let bar = BAR * h / 1080.0;
        // The edge between the scenes runs from one bar width left of the frame to one
        // bar width right of it, so the bar enters and leaves whole.
        let edge = lerp(-bar, w + bar, Easing::InOutCubic.apply(progress));

        if edge + bar / 2.0 > 0.0 && edge - bar / 2.0 < w {
            let glow = GLOW * h / 1080.0;
            let trail = Paint::linear(edge - glow, 0.0, edge, 0.0, &[Stop(0.0, ACCENT.fade(0.0)), Stop(1.0, ACCENT.fade(0.5))]);
            overlay.fill_rect(Rect::new(edge - glow, 0.0, glow, h), trail);
            overlay.fill_rect(Rect::new(edge - bar / 2.0, 0.0, bar, h), ACCENT);
        }

        // Whole frames at the ends: no clip where none is needed.
        if edge <= 0.0 {
            return Views { outgoing: SceneView::normal(), incoming: SceneView::with_opacity(0.0), incoming_on_top: true };
        }
        if edge >= w {
            return Views { outgoing: SceneView::with_opacity(0.0), incoming: SceneView::normal(), incoming_on_top: true };
        }
        let clipped = |x: f32, width: f32| SceneView { clip: Some(Path::rect(Rect::new(x, 0.0, width, h))), ..SceneView::normal() };
        Views { outgoing: clipped(edge, w - edge), incoming: clipped(0.0, edge), incoming_on_top: true }
    }
}

export_transition!(Wipe);

#[cfg(test)]
mod tests {
    use super::*;

    const W: f32 = 1920.0;

    fn mix(progress: f32) -> (Views, Canvas) {
        let frame = FrameInfo { index: 0, time: 0.0, width: W as u32, height: 1080, fps_num: 30, fps_den: 1 };
        let mut overlay = Canvas::new();
        (Wipe::mix(progress, &frame, &mut overlay), overlay)
    }

    /// The span of x a view shows within the frame (0 if it is invisible).
    fn visible_width(view: &SceneView) -> f32 {
        if view.opacity <= 0.0 {
            return 0.0;
        }
        let Some(clip) = &view.clip else { return W };
        let xs = || clip.points.chunks(2).map(|p| p[0].clamp(0.0, W));
        xs().fold(f32::MIN, f32::max) - xs().fold(f32::MAX, f32::min)
    }

    #[test]
    fn starts_all_outgoing_and_ends_all_incoming() {
        let (start, overlay) = mix(0.0);
        assert_eq!((visible_width(&start.outgoing), visible_width(&start.incoming)), (W, 0.0));
        assert!(overlay.is_empty(), "the bar is off screen at 0");
        let (end, overlay) = mix(1.0);
        assert_eq!((visible_width(&end.outgoing), visible_width(&end.incoming)), (0.0, W));
        assert!(overlay.is_empty(), "the bar is off screen at 1");
    }

    #[test]
    fn the_scenes_share_the_frame_with_the_bar_on_the_edge() {
        let mut last = 0.0;
        for i in 1..100 {
            let (views, overlay) = mix(i as f32 / 100.0);
            let (out, inc) = (visible_width(&views.outgoing), visible_width(&views.incoming));
            assert!((out + inc - W).abs() < 0.01, "{out} + {inc}");
            assert!(inc >= last);
            last = inc;
            if inc > 0.0 && out > 0.0 {
                assert_eq!(overlay.len(), 2, "glow and bar");
            }
        }
    }
}
