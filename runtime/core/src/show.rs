//! The show model: output format, scenes and their layers, and which scene is on
//! program. Plain data with validation; loading modules, parsing show files and
//! running the show belong to the engine (runtime/engine).
//!
//! Must not: know how a module reference is resolved (a path or a content hash is
//! an opaque string here), touch files, or hold runtime state (faults, versions).

use serde::{Deserialize, Serialize};

use crate::{Affine, FrameInfo, Prop, Rect};

/// Largest output width or height accepted, in pixels.
pub const MAX_OUTPUT_SIDE: u32 = 8192;
/// Highest frame rate accepted, in frames per second.
pub const MAX_FPS: f64 = 240.0;
/// Lowest frame rate accepted, in frames per second.
pub const MIN_FPS: f64 = 1.0;
/// Longest scene name or layer id, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// One layer of a scene: a scene module with its props and placement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    /// Unique within the show.
    pub id: String,
    /// Which module runs the layer: a path or a content hash, resolved by the engine.
    pub module: String,
    pub props: Vec<Prop>,
    /// Placement of the layer's full-frame canvas in the scene.
    pub transform: Affine,
    /// 0..=1.
    pub opacity: f32,
    /// Region of the layer's canvas that is shown; `None` shows all of it.
    pub crop: Option<Rect>,
    /// Hidden layers are kept loaded but not ticked or drawn.
    pub visible: bool,
    /// Stacking order within the scene: higher is drawn later (on top); equal z
    /// keeps the order of the scene's layer list.
    pub z: i32,
}

impl LayerSpec {
    /// A visible, full-frame, opaque layer at z 0 with the module's default props.
    pub fn new(id: &str, module: &str) -> LayerSpec {
        LayerSpec { id: id.to_string(), module: module.to_string(), props: Vec::new(), transform: Affine::IDENTITY, opacity: 1.0, crop: None, visible: true, z: 0 }
    }
}

/// A named set of layers shown together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneSpec {
    pub name: String,
    pub layers: Vec<LayerSpec>,
}

/// A whole show: output format, scenes, and the scene on program at the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShowSpec {
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
    pub scenes: Vec<SceneSpec>,
    /// Name of the scene on program.
    pub program: String,
}

/// Why a show spec is not usable; each variant names the item at fault.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ShowError {
    #[error("output size {width}x{height} is outside 1x1..={MAX_OUTPUT_SIDE}x{MAX_OUTPUT_SIDE}")]
    Size { width: u32, height: u32 },
    #[error("frame rate {num}/{den} is outside {MIN_FPS}..={MAX_FPS} fps (give a positive numerator and denominator)")]
    FrameRate { num: u32, den: u32 },
    #[error("the show has no scenes; add at least one")]
    NoScenes,
    #[error("{what} `{name}` is not a usable name: {reason}")]
    BadName { what: &'static str, name: String, reason: &'static str },
    #[error("scene `{0}` is defined twice; scene names must be unique")]
    DuplicateScene(String),
    #[error("layer `{id}` appears in scene `{first}` and again in scene `{second}`; layer ids must be unique in the show")]
    DuplicateLayer { id: String, first: String, second: String },
    #[error("layer `{0}` names no module")]
    NoModule(String),
    #[error("layer `{layer}` sets prop `{prop}` twice")]
    DuplicateProp { layer: String, prop: String },
    #[error("layer `{layer}`: opacity {value} is outside 0..=1")]
    Opacity { layer: String, value: f32 },
    #[error("layer `{0}`: transform has a NaN or infinite number")]
    Transform(String),
    #[error("layer `{layer}`: crop {crop:?} must be finite with a positive width and height")]
    Crop { layer: String, crop: Rect },
    #[error("program scene `{program}` does not exist; scenes: {known}")]
    UnknownProgram { program: String, known: String },
}

impl ShowSpec {
    /// An empty show at `width`x`height`, `fps_num/fps_den` fps, with one empty scene
    /// `program` on program.
    pub fn new(width: u32, height: u32, fps_num: u32, fps_den: u32, program: &str) -> ShowSpec {
        ShowSpec { width, height, fps_num, fps_den, scenes: vec![SceneSpec { name: program.to_string(), layers: Vec::new() }], program: program.to_string() }
    }

    /// Frame `index` of this show's output.
    pub fn frame(&self, index: u64) -> FrameInfo {
        FrameInfo::at(index, self.width, self.height, self.fps_num, self.fps_den)
    }

    /// Frames per second as a float (0 when the denominator is 0).
    pub fn fps(&self) -> f64 {
        if self.fps_den == 0 { 0.0 } else { f64::from(self.fps_num) / f64::from(self.fps_den) }
    }

    pub fn scene(&self, name: &str) -> Option<&SceneSpec> {
        self.scenes.iter().find(|s| s.name == name)
    }

    pub fn scene_mut(&mut self, name: &str) -> Option<&mut SceneSpec> {
        self.scenes.iter_mut().find(|s| s.name == name)
    }

    /// The layer with `id` and the name of the scene that holds it.
    pub fn layer(&self, id: &str) -> Option<(&SceneSpec, &LayerSpec)> {
        self.scenes.iter().find_map(|s| s.layers.iter().find(|l| l.id == id).map(|l| (s, l)))
    }

    pub fn layer_mut(&mut self, id: &str) -> Option<&mut LayerSpec> {
        self.scenes.iter_mut().flat_map(|s| s.layers.iter_mut()).find(|l| l.id == id)
    }

    /// Every layer of every scene.
    pub fn layers(&self) -> impl Iterator<Item = &LayerSpec> {
        self.scenes.iter().flat_map(|s| s.layers.iter())
    }

    /// Checks sizes, rates, names, uniqueness and numeric ranges. Props are checked
    /// against module specs by whoever loads the modules.
    pub fn validate(&self) -> Result<(), ShowError> {
        if !(1..=MAX_OUTPUT_SIDE).contains(&self.width) || !(1..=MAX_OUTPUT_SIDE).contains(&self.height) {
            return Err(ShowError::Size { width: self.width, height: self.height });
        }
        let fps = self.fps();
        if self.fps_num == 0 || self.fps_den == 0 || !(MIN_FPS..=MAX_FPS).contains(&fps) {
            return Err(ShowError::FrameRate { num: self.fps_num, den: self.fps_den });
        }
        if self.scenes.is_empty() {
            return Err(ShowError::NoScenes);
        }
        let mut scene_names: Vec<&str> = Vec::with_capacity(self.scenes.len());
        let mut layer_ids: Vec<(&str, &str)> = Vec::new();
        for scene in &self.scenes {
            check_name("scene", &scene.name)?;
            if scene_names.contains(&scene.name.as_str()) {
                return Err(ShowError::DuplicateScene(scene.name.clone()));
            }
            scene_names.push(&scene.name);
            for layer in &scene.layers {
                check_name("layer", &layer.id)?;
                if let Some((_, first)) = layer_ids.iter().find(|(id, _)| *id == layer.id) {
                    return Err(ShowError::DuplicateLayer { id: layer.id.clone(), first: first.to_string(), second: scene.name.clone() });
                }
                layer_ids.push((&layer.id, &scene.name));
                validate_layer(layer)?;
            }
        }
        if self.scene(&self.program).is_none() {
            return Err(ShowError::UnknownProgram { program: self.program.clone(), known: scene_names.join(", ") });
        }
        Ok(())
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), ShowError> {
    let bad = |reason| Err(ShowError::BadName { what, name: name.to_string(), reason });
    if name.trim().is_empty() {
        return bad("it is empty");
    }
    if name.len() > MAX_NAME_BYTES {
        return bad("it is longer than 128 bytes");
    }
    if name.chars().any(char::is_control) {
        return bad("it contains control characters");
    }
    Ok(())
}

fn validate_layer(layer: &LayerSpec) -> Result<(), ShowError> {
    if layer.module.trim().is_empty() {
        return Err(ShowError::NoModule(layer.id.clone()));
    }
    for (i, prop) in layer.props.iter().enumerate() {
        if layer.props[..i].iter().any(|p| p.name == prop.name) {
            return Err(ShowError::DuplicateProp { layer: layer.id.clone(), prop: prop.name.clone() });
        }
    }
    if !(0.0..=1.0).contains(&layer.opacity) {
        return Err(ShowError::Opacity { layer: layer.id.clone(), value: layer.opacity });
    }
    let t = layer.transform;
    if ![t.a, t.b, t.c, t.d, t.e, t.f].iter().all(|v| v.is_finite()) {
        return Err(ShowError::Transform(layer.id.clone()));
    }
    if let Some(crop) = layer.crop {
        let finite = [crop.x, crop.y, crop.width, crop.height].iter().all(|v| v.is_finite());
        if !finite || crop.width <= 0.0 || crop.height <= 0.0 {
            return Err(ShowError::Crop { layer: layer.id.clone(), crop });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PropValue;

    fn show() -> ShowSpec {
        let mut show = ShowSpec::new(1920, 1080, 30, 1, "main");
        show.scenes[0].layers.push(LayerSpec::new("lower", "lower.wasm"));
        show.scenes.push(SceneSpec { name: "second".into(), layers: vec![LayerSpec::new("ticker", "ticker.wasm")] });
        show
    }

    #[test]
    fn a_good_show_validates_and_finds_its_layers() {
        let s = show();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.layer("ticker").map(|(scene, _)| scene.name.as_str()), Some("second"));
        assert_eq!(s.frame(30).time, 1.0);
    }

    #[test]
    fn errors_name_the_item_at_fault() {
        let mut s = show();
        s.scenes[1].layers.push(LayerSpec::new("lower", "x.wasm"));
        assert_eq!(s.validate(), Err(ShowError::DuplicateLayer { id: "lower".into(), first: "main".into(), second: "second".into() }));

        let mut s = show();
        s.scenes[1].name = "main".into();
        assert_eq!(s.validate(), Err(ShowError::DuplicateScene("main".into())));

        let mut s = show();
        s.program = "nope".into();
        assert!(s.validate().unwrap_err().to_string().contains("`nope` does not exist; scenes: main, second"));

        let mut s = show();
        s.scenes[0].layers[0].opacity = 1.5;
        assert!(s.validate().unwrap_err().to_string().contains("layer `lower`: opacity 1.5"));

        let mut s = show();
        s.scenes[0].layers[0].crop = Some(Rect { x: 0.0, y: 0.0, width: 0.0, height: 10.0 });
        assert!(matches!(s.validate(), Err(ShowError::Crop { layer, .. }) if layer == "lower"));

        let mut s = show();
        s.scenes[0].layers[0].transform.e = f32::NAN;
        assert_eq!(s.validate(), Err(ShowError::Transform("lower".into())));

        let mut s = show();
        let p = Prop { name: "name".into(), value: PropValue::Text("a".into()) };
        s.scenes[0].layers[0].props = vec![p.clone(), p];
        assert!(matches!(s.validate(), Err(ShowError::DuplicateProp { prop, .. }) if prop == "name"));

        let mut s = show();
        s.scenes[0].layers[0].id = " ".into();
        assert!(matches!(s.validate(), Err(ShowError::BadName { what: "layer", .. })));
    }

    #[test]
    fn output_format_is_range_checked() {
        let mut s = show();
        s.width = 0;
        assert!(matches!(s.validate(), Err(ShowError::Size { width: 0, .. })));
        let mut s = show();
        (s.fps_num, s.fps_den) = (30_000, 1001);
        assert_eq!(s.validate(), Ok(()));
        s.fps_den = 0;
        assert!(matches!(s.validate(), Err(ShowError::FrameRate { .. })));
        (s.fps_num, s.fps_den) = (1000, 1);
        assert!(matches!(s.validate(), Err(ShowError::FrameRate { .. })));
        s.scenes.clear();
        (s.fps_num, s.fps_den) = (30, 1);
        assert_eq!(s.validate(), Err(ShowError::NoScenes));
    }
}
