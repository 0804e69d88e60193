//! Editing the live show between frames: adding, placing and removing layers,
//! adding and removing scenes, and reading a layer's guest-state checkpoint for
//! persistence. Each edit is validated on a copy of the show first, so a refused
//! edit leaves the show exactly as it was.
//!
//! Must not: load or compile modules (callers hand over loaded ones) or touch a
//! layer's worker while validating.

use std::sync::Arc;

use showrunner_core::{Affine, LayerSpec, Rect, SceneSpec};
use showrunner_wasm::LoadedModule;

use super::{Engine, check_scene};
use crate::error::EngineError;
use crate::props::conform_props;

/// Placement fields of a layer to change; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerPatch {
    pub transform: Option<Affine>,
    pub opacity: Option<f32>,
    /// `Some(None)` removes the crop.
    pub crop: Option<Option<Rect>>,
    pub visible: Option<bool>,
    pub z: Option<i32>,
}

impl Engine {
    /// Shows or hides `layer` from the next frame on (a hidden layer is not ticked).
    pub fn set_visible(&mut self, layer: &str, visible: bool) -> Result<(), EngineError> {
        self.update_layer(layer, &LayerPatch { visible: Some(visible), ..LayerPatch::default() }).map(|_| ())
    }

    /// Changes where and how `layer` is drawn from the next frame on; returns the layer
    /// as it now is. Nothing changes if the result is not a valid layer.
    pub fn update_layer(&mut self, layer: &str, patch: &LayerPatch) -> Result<LayerSpec, EngineError> {
        let mut next = self.spec.layer(layer).map(|(_, l)| l.clone()).ok_or_else(|| EngineError::UnknownLayer(layer.to_string()))?;
        if let Some(transform) = patch.transform {
            next.transform = transform;
        }
        if let Some(opacity) = patch.opacity {
            next.opacity = opacity;
        }
        if let Some(crop) = patch.crop {
            next.crop = crop;
        }
        if let Some(visible) = patch.visible {
            next.visible = visible;
        }
        if let Some(z) = patch.z {
            next.z = z;
        }
        let mut show = self.spec.clone();
        if let Some(slot) = show.layer_mut(layer) {
            *slot = next.clone();
        }
        show.validate()?;
        self.spec = show;
        Ok(next)
    }

    /// Adds a layer running `module` to `scene`.
    pub fn add_layer(&mut self, scene: &str, layer: LayerSpec, module: Arc<LoadedModule>) -> Result<(), EngineError> {
        self.add_layer_with_state(scene, layer, module, None)
    }

    /// Adds a layer running `module` to `scene`, restoring `state` (a checkpoint from
    /// [`Engine::layer_state`], e.g. kept across a restart) into its first instance.
    /// A module that declines the state starts from its initial state.
    pub fn add_layer_with_state(&mut self, scene: &str, mut layer: LayerSpec, module: Arc<LoadedModule>, state: Option<Arc<[u8]>>) -> Result<(), EngineError> {
        self.scene_exists(scene)?;
        check_scene(&layer.id, &layer.module, &module)?;
        layer.props = conform_props(&module.info, &layer.props).map_err(|source| EngineError::Props { layer: layer.id.clone(), source })?;
        let mut next = self.spec.clone();
        if let Some(s) = next.scene_mut(scene) {
            s.layers.push(layer.clone());
        }
        next.validate()?;
        self.pool.add_layer_with_state(&layer.id, module, &layer.props, self.policy.clone(), state)?;
        self.spec = next;
        Ok(())
    }

    /// Stops and removes `layer`.
    pub fn remove_layer(&mut self, layer: &str) -> Result<(), EngineError> {
        self.layer_exists(layer)?;
        self.pool.remove_layer(layer)?;
        for scene in &mut self.spec.scenes {
            scene.layers.retain(|l| l.id != layer);
        }
        Ok(())
    }

    /// The last guest-state checkpoint of `layer` (`None`: the module keeps no state
    /// or has not saved any yet).
    pub fn layer_state(&self, layer: &str) -> Result<Option<Arc<[u8]>>, EngineError> {
        self.layer_exists(layer)?;
        Ok(self.pool.checkpoint(layer))
    }

    /// Adds an empty scene.
    pub fn add_scene(&mut self, name: &str) -> Result<(), EngineError> {
        let mut next = self.spec.clone();
        next.scenes.push(SceneSpec { name: name.to_string(), layers: Vec::new() });
        next.validate()?;
        self.spec = next;
        Ok(())
    }

    /// Removes `scene` and stops its layers. The scene on program, the one a
    /// transition is taking to program, and the last scene cannot be removed; a
    /// removed preview scene clears the preview.
    pub fn remove_scene(&mut self, name: &str) -> Result<(), EngineError> {
        self.scene_exists(name)?;
        if name == self.program || self.incoming() == Some(name) {
            return Err(EngineError::SceneOnAir(name.to_string()));
        }
        let ids: Vec<String> = self.spec.scene(name).map(|s| s.layers.iter().map(|l| l.id.clone()).collect()).unwrap_or_default();
        for id in &ids {
            self.pool.remove_layer(id)?;
        }
        self.spec.scenes.retain(|s| s.name != name);
        if self.preview.as_deref() == Some(name) {
            self.preview = None;
        }
        Ok(())
    }
}
