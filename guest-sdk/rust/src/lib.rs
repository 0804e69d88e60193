//! `showrunner-guest`: write showrunner overlays in Rust.
//!
//! A scene is a type implementing [`Scene`]; [`export_scene!`] turns it into a Wasm
//! component that speaks `showrunner:scene@0.1.0`. Transitions implement
//! [`Transition`] and use [`export_transition!`]. Authors work with the builders in
//! this crate ([`Canvas`], [`PathBuilder`], [`Paint`], [`TextStyle`], [`Props`],
//! [`Appear`], [`Tween`]); the raw bindings stay private.
//!
//! The same scene code also compiles natively (the host functions then use simple
//! fallbacks), which is how benchmarks compare a scene in Wasm with native code.
//!
//! See `guest-sdk/rust/README.md` for a walkthrough.

mod canvas;
mod geometry;
mod host;
mod path;
mod props;
pub mod state;
mod tween;

#[doc(hidden)]
pub mod __private;

/// Raw bindings for the `scene` world. Not part of the public API.
#[doc(hidden)]
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod scene_bindings {
    wit_bindgen::generate!({
        world: "scene",
        path: "../../wit/0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_scene_world",
        default_bindings_module: "showrunner_guest::scene_bindings",
        additional_derives: [PartialEq],
    });
}

/// Raw bindings for the `transition` world. Not part of the public API.
#[doc(hidden)]
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod transition_bindings {
    wit_bindgen::generate!({
        world: "transition",
        path: "../../wit/0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_transition_world",
        default_bindings_module: "showrunner_guest::transition_bindings",
        with: {
            "showrunner:scene/types@0.1.0": crate::scene_bindings::showrunner::scene::types,
            "showrunner:scene/host@0.1.0": crate::scene_bindings::showrunner::scene::host,
        },
    });
}

pub use canvas::{Canvas, Group, StrokeStyle, TextStyle};
pub use geometry::{Paint, Stop};
pub use host::{asset_size, log, measure_text};
pub use path::PathBuilder;
pub use props::{PropSpecExt, Props};
pub use tween::{Appear, Easing, Phase, Tween, lerp};

/// The WIT value types, with constructors added by this crate.
pub use scene_bindings::showrunner::scene::types::{
    Affine, BlendMode, Color, DrawOp, Event, FillRule, FrameInfo, LineCap, LineJoin, LogLevel,
    ModuleInfo, MixPlan, Path, Prop, PropSpec, PropValue, Rect, SceneView, TextAlign,
};

/// Everything a scene usually needs: `use showrunner_guest::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Affine, Appear, BlendMode, Canvas, Color, Easing, Event, FillRule, FrameInfo, Group,
        LineCap, LineJoin, ModuleInfo, Paint, Path, PathBuilder, Phase, PropSpec, PropSpecExt, Props,
        Rect, Scene, SceneView, Stop, StrokeStyle, TextAlign, TextStyle, Transition, Tween,
        Views, export_scene, export_transition, lerp,
    };
}

/// An overlay: one instance per layer, ticked once per output frame.
pub trait Scene: Sized + 'static {
    /// Name, version and property specs. Called before anything else; must not
    /// depend on state.
    fn describe() -> ModuleInfo;

    /// Creates the scene from its initial properties (defaults filled in).
    fn new(props: &Props) -> Result<Self, String>;

    /// Properties changed; `props` holds every current value, not just the changed ones.
    fn set_props(&mut self, props: &Props) {
        let _ = props;
    }

    /// An event arrived ("play", "stop", "next", "update" or a custom name). Events
    /// carry no time: note what happened and act on it in the next [`Scene::tick`].
    fn on_event(&mut self, event: &Event) {
        let _ = event;
    }

    /// Draws one frame into `canvas`. `frame.time` is the only clock.
    fn tick(&mut self, frame: &FrameInfo, canvas: &mut Canvas);

    /// State to carry into the next version on hot-swap (see [`state::save`]).
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Continues from a previous version's [`Scene::save_state`] (see [`state::load`]).
    fn restore_state(&mut self, state: &[u8]) -> Result<(), String> {
        let _ = state;
        Ok(())
    }
}

/// How the outgoing and incoming scenes are shown for one frame of a transition.
#[derive(Clone, Debug)]
pub struct Views {
    pub outgoing: SceneView,
    pub incoming: SceneView,
    /// Draw the incoming scene above the outgoing one (the usual case).
    pub incoming_on_top: bool,
}

/// A transition between two scenes. Stateless: the host may call [`Transition::mix`]
/// with any progress in any order (scrubbing a take in preview, for instance).
pub trait Transition: 'static {
    /// Name, version and property specs.
    fn describe() -> ModuleInfo;

    /// `progress` runs 0 (all outgoing) to 1 (all incoming). Draw anything that goes
    /// above both scenes (a wipe bar, a stinger) into `overlay`.
    fn mix(progress: f32, frame: &FrameInfo, overlay: &mut Canvas) -> Views;
}

/// Exports a [`Scene`] implementation as the module's `scene` world.
///
/// ```ignore
/// struct Clock;
/// impl showrunner_guest::Scene for Clock { /* ... */ }
/// showrunner_guest::export_scene!(Clock);
/// ```
#[macro_export]
macro_rules! export_scene {
    ($scene:ty) => {
        // Only Wasm builds export the world, so scene crates also link natively
        // (benchmarks, tests) side by side.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
        struct __ShowrunnerSceneExport;

        ::std::thread_local! {
            static __SHOWRUNNER_SCENE: ::core::cell::RefCell<$crate::__private::SceneSlot<$scene>> =
                const { ::core::cell::RefCell::new($crate::__private::SceneSlot::empty()) };
        }

        impl $crate::scene_bindings::Guest for __ShowrunnerSceneExport {
            fn describe() -> $crate::ModuleInfo {
                $crate::__private::describe::<$scene>()
            }
            fn init(props: ::std::vec::Vec<$crate::Prop>) -> ::core::result::Result<(), ::std::string::String> {
                __SHOWRUNNER_SCENE.with(|slot| $crate::__private::init(&mut slot.borrow_mut(), props))
            }
            fn set_props(props: ::std::vec::Vec<$crate::Prop>) {
                __SHOWRUNNER_SCENE.with(|slot| $crate::__private::set_props(&mut slot.borrow_mut(), props))
            }
            fn on_event(event: $crate::Event) {
                __SHOWRUNNER_SCENE.with(|slot| $crate::__private::on_event(&mut slot.borrow_mut(), event))
            }
            fn tick(frame: $crate::FrameInfo) -> ::std::vec::Vec<$crate::DrawOp> {
                __SHOWRUNNER_SCENE.with(|slot| $crate::__private::tick(&mut slot.borrow_mut(), frame))
            }
            fn save_state() -> ::std::vec::Vec<u8> {
                __SHOWRUNNER_SCENE.with(|slot| $crate::__private::save_state(&slot.borrow()))
            }
            fn restore_state(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                __SHOWRUNNER_SCENE.with(|slot| $crate::__private::restore_state(&mut slot.borrow_mut(), state))
            }
        }

        $crate::scene_bindings::__export_scene_world!(__ShowrunnerSceneExport with_types_in $crate::scene_bindings);
        };
    };
}

/// Exports a [`Transition`] implementation as the module's `transition` world.
#[macro_export]
macro_rules! export_transition {
    ($transition:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
        struct __ShowrunnerTransitionExport;

        impl $crate::transition_bindings::Guest for __ShowrunnerTransitionExport {
            fn describe() -> $crate::ModuleInfo {
                $crate::__private::describe_transition::<$transition>()
            }
            fn mix(progress: f32, frame: $crate::FrameInfo) -> $crate::__private::MixPlan {
                $crate::__private::mix::<$transition>(progress, frame)
            }
        }

        $crate::transition_bindings::__export_transition_world!(__ShowrunnerTransitionExport with_types_in $crate::transition_bindings);
        };
    };
}
