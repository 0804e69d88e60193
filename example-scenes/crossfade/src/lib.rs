//! Crossfade: the outgoing scene fades out while the incoming one fades in.
//!
//! Both fade (rather than the incoming one fading in over an opaque outgoing one)
//! because overlays are mostly transparent: what is under them must not show through
//! twice. Eased in and out. No props.
//!
//! Build: `cargo build --profile guest --target wasm32-wasip2 -p transition-crossfade`,
//! then use `target/wasm32-wasip2/guest/transition_crossfade.wasm` as a layer's
//! transition.

use showrunner_guest::prelude::*;

pub struct Crossfade;

impl Transition for Crossfade {
    fn describe() -> ModuleInfo {
        ModuleInfo { name: "Crossfade".into(), version: env!("CARGO_PKG_VERSION").into(), props: vec![] }
    }

    fn mix(progress: f32, _frame: &FrameInfo, _overlay: &mut Canvas) -> Views {
        let t = Easing::InOutQuad.apply(progress);
        Views { outgoing: SceneView::with_opacity(1.0 - t), incoming: SceneView::with_opacity(t), incoming_on_top: true }
    }
}

export_transition!(Crossfade);

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(progress: f32) -> (Views, Canvas) {
        let frame = FrameInfo { index: 0, time: 0.0, width: 1920, height: 1080, fps_num: 30, fps_den: 1 };
        let mut overlay = Canvas::new();
        (Crossfade::mix(progress, &frame, &mut overlay), overlay)
    }

    #[test]
    fn starts_all_outgoing_and_ends_all_incoming() {
        let (start, overlay) = mix(0.0);
        assert_eq!((start.outgoing.opacity, start.incoming.opacity), (1.0, 0.0));
        assert!(overlay.is_empty());
        let (end, _) = mix(1.0);
        assert_eq!((end.outgoing.opacity, end.incoming.opacity), (0.0, 1.0));
    }

    #[test]
    fn fades_steadily_with_no_transform_or_clip() {
        let mut last = mix(0.0).0;
        for i in 1..=100 {
            let views = mix(i as f32 / 100.0).0;
            assert!(views.incoming.opacity >= last.incoming.opacity && views.outgoing.opacity <= last.outgoing.opacity);
            assert!((views.incoming.opacity + views.outgoing.opacity - 1.0).abs() < 1e-6);
            assert!(views.incoming.clip.is_none() && views.outgoing.clip.is_none());
            assert_eq!(views.incoming.transform.apply(10.0, 20.0), (10.0, 20.0));
            last = views;
        }
    }
}
