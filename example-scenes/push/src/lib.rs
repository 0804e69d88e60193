//! Push: the incoming scene slides in from the right, pushing the outgoing one out
//! to the left.
//!
//! Both scenes move together by the same distance, eased in and out. No props.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p transition-push`, then
//! use `target/wasm32-wasip2/guest/transition_push.wasm` as a layer's transition.

use showrunner_guest::prelude::*;

pub struct Push;

impl Transition for Push {
    fn describe() -> ModuleInfo {
        ModuleInfo { name: "Push".into(), version: env!("CARGO_PKG_VERSION").into(), props: vec![] }
    }

    fn mix(progress: f32, frame: &FrameInfo, _overlay: &mut Canvas) -> Views {
        let shift = frame.width as f32 * Easing::InOutCubic.apply(progress);
        let at = |x: f32| SceneView { transform: Affine::translate(x, 0.0), ..SceneView::normal() };
        Views { outgoing: at(-shift), incoming: at(frame.width as f32 - shift), incoming_on_top: true }
    }
}

export_transition!(Push);

#[cfg(test)]
mod tests {
    use super::*;

    const W: f32 = 1920.0;

    fn mix(progress: f32) -> Views {
        let frame = FrameInfo { index: 0, time: 0.0, width: W as u32, height: 1080, fps_num: 30, fps_den: 1 };
        Push::mix(progress, &frame, &mut Canvas::new())
    }

    /// How much of the frame's width a scene covers after its transform.
    fn visible_width(view: &SceneView) -> f32 {
        if view.opacity <= 0.0 {
            return 0.0;
        }
        let (left, _) = view.transform.apply(0.0, 0.0);
        let (right, _) = view.transform.apply(W, 0.0);
        (right.min(W) - left.max(0.0)).max(0.0)
    }

    #[test]
    fn starts_all_outgoing_and_ends_all_incoming() {
        let start = mix(0.0);
        assert_eq!((visible_width(&start.outgoing), visible_width(&start.incoming)), (W, 0.0));
        let end = mix(1.0);
        assert_eq!((visible_width(&end.outgoing), visible_width(&end.incoming)), (0.0, W));
    }

    #[test]
    fn scenes_move_left_together_without_gap_or_overlap() {
        let mut last = W;
        for i in 0..=100 {
            let views = mix(i as f32 / 100.0);
            let (out_x, inc_x) = (views.outgoing.transform.e, views.incoming.transform.e);
            assert!((inc_x - out_x - W).abs() < 1e-3, "the incoming scene starts where the outgoing one ends");
            assert!(inc_x <= last, "moves left only");
            assert!(views.outgoing.opacity == 1.0 && views.incoming.opacity == 1.0);
            last = inc_x;
        }
    }
}
