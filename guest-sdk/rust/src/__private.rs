//! Glue between the raw bindings and the [`Scene`]/[`Transition`] traits, used by
//! the export macros. Not part of the public API.

use crate::{Canvas, DrawOp, Event, FrameInfo, ModuleInfo, Prop, Props, Scene, Transition};

pub use crate::MixPlan;

/// The live scene of a module instance plus its current properties.
pub struct SceneSlot<S> {
    scene: Option<S>,
    props: Props,
    canvas: Canvas,
}

impl<S> SceneSlot<S> {
    pub const fn empty() -> Self {
        Self { scene: None, props: Props::empty(), canvas: Canvas::new() }
    }
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            crate::log::error(&format!("panic: {info}"));
        }));
    });
}

pub fn describe<S: Scene>() -> ModuleInfo {
    install_panic_hook();
    S::describe()
}

pub fn init<S: Scene>(slot: &mut SceneSlot<S>, props: Vec<Prop>) -> Result<(), String> {
    install_panic_hook();
    let mut all = Props::defaults(&S::describe().props);
    all.merge(props);
    let scene = S::new(&all)?;
    slot.props = all;
    slot.scene = Some(scene);
    Ok(())
}

pub fn set_props<S: Scene>(slot: &mut SceneSlot<S>, props: Vec<Prop>) {
    slot.props.merge(props);
    if let Some(scene) = slot.scene.as_mut() {
        scene.set_props(&slot.props);
    }
}

pub fn on_event<S: Scene>(slot: &mut SceneSlot<S>, event: Event) {
    if let Some(scene) = slot.scene.as_mut() {
        scene.on_event(&event);
    }
}

pub fn tick<S: Scene>(slot: &mut SceneSlot<S>, frame: FrameInfo) -> Vec<DrawOp> {
    let Some(scene) = slot.scene.as_mut() else {
        return Vec::new();
    };
    slot.canvas.clear();
    scene.tick(&frame, &mut slot.canvas);
    slot.canvas.take_ops()
}

pub fn save_state<S: Scene>(slot: &SceneSlot<S>) -> Vec<u8> {
    slot.scene.as_ref().map(S::save_state).unwrap_or_default()
}

pub fn restore_state<S: Scene>(slot: &mut SceneSlot<S>, state: Vec<u8>) -> Result<(), String> {
    match slot.scene.as_mut() {
        Some(scene) => scene.restore_state(&state),
        None => Err("restore-state called before init".to_string()),
    }
}

pub fn describe_transition<T: Transition>() -> ModuleInfo {
    install_panic_hook();
    T::describe()
}

pub fn mix<T: Transition>(progress: f32, frame: FrameInfo) -> MixPlan {
    let mut overlay = Canvas::new();
    let views = T::mix(progress.clamp(0.0, 1.0), &frame, &mut overlay);
    MixPlan {
        outgoing: views.outgoing,
        incoming: views.incoming,
        incoming_on_top: views.incoming_on_top,
        overlay: overlay.take_ops(),
    }
}
