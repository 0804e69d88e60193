//! The show file: a TOML description of a show (output format, scenes, layers)
//! and its cue list, turned into a [`ShowSpec`] and [`Cue`]s. Module paths are
//! resolved relative to the file's folder.
//!
//! Must not: load modules (props are typed and checked against the modules' specs
//! when the engine loads them), or accept a key it does not know.
//!
//! ```toml
//! size = "1280x720"   # optional, default "1920x1080"
//! fps = "30"          # optional, default "30"; also "30000/1001" or 25
//! program = "main"    # the scene on program at the start
//! length = "12s"      # optional: how long an offline render runs
//!
//! [[scene]]
//! name = "main"
//!
//! [[scene.layer]]
//! id = "lower"        # unique in the show
//! module = "../target/wasm32-wasip2/guest/scene_lower_third.wasm"
//! props = { name = "Ada Lovelace", title = "Engine designer", accent = "#E83A3A" }
//! z = 10              # optional, default 0; higher is drawn on top
//! # optional: opacity = 1.0, visible = true,
//! #           transform = [a, b, c, d, e, f], crop = [x, y, width, height]
//!
//! [[cue]]             # an event to a layer (payload optional)
//! at = "0.5s"
//! layer = "lower"
//! event = "play"
//!
//! [[cue]]             # new props for a layer
//! at = "2s"
//! layer = "lower"
//! props = { title = "Analyst" }
//!
//! [[cue]]             # a take: transition and duration optional (a cut without)
//! at = "6s"
//! take = "second"
//! transition = "../target/wasm32-wasip2/guest/transition_crossfade.wasm"
//! duration = "1s"     # default 1s
//! ```
//!
//! Prop values: `true`/`false`, numbers, strings (a colour as `"#RRGGBB"` or
//! `"#RRGGBBAA"`, an asset by name) or a colour table `{ r = 1, g = 0.5, b = 0 }`.

mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use showrunner_core::{Affine, Event, LayerSpec, Prop, Rect, SceneSpec, ShowError, ShowSpec};
use toml::Spanned;

use crate::cue::{Cue, CueAction};
use values::{Fps, Size, TimeSpan, TomlProp};

/// Largest show file read, in bytes.
pub const MAX_SHOW_FILE_BYTES: u64 = 1 << 20;
/// Transition duration when a take names a transition but no duration.
pub const DEFAULT_TRANSITION: Duration = Duration::from_secs(1);

/// A parsed show file.
#[derive(Clone, Debug, PartialEq)]
pub struct ShowFile {
    /// Module references are paths resolved against the file's folder.
    pub spec: ShowSpec,
    /// In file order.
    pub cues: Vec<Cue>,
    /// How long an offline render of the show runs, if the file says.
    pub length: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShowFileError {
    #[error("cannot read show file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("show file {path} is over {MAX_SHOW_FILE_BYTES} bytes")]
    TooLarge { path: PathBuf },
    #[error("show file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("show file {path}, line {line}: {message}")]
    Invalid { path: PathBuf, line: usize, message: String },
    #[error("show file {path}: {source}")]
    Show { path: PathBuf, source: ShowError },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShow {
    size: Option<Size>,
    fps: Option<Fps>,
    program: String,
    length: Option<TimeSpan>,
    #[serde(default, rename = "scene")]
    scenes: Vec<RawScene>,
    #[serde(default, rename = "cue")]
    cues: Vec<Spanned<RawCue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScene {
    name: String,
    #[serde(default, rename = "layer")]
    layers: Vec<RawLayer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    id: String,
    module: String,
    #[serde(default)]
    props: BTreeMap<String, TomlProp>,
    #[serde(default)]
    z: i32,
    opacity: Option<f32>,
    visible: Option<bool>,
    transform: Option<[f32; 6]>,
    crop: Option<[f32; 4]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCue {
    at: TimeSpan,
    layer: Option<String>,
    event: Option<String>,
    payload: Option<String>,
    props: Option<BTreeMap<String, TomlProp>>,
    take: Option<String>,
    transition: Option<String>,
    duration: Option<TimeSpan>,
}

fn props(raw: BTreeMap<String, TomlProp>) -> Vec<Prop> {
    raw.into_iter().map(|(name, TomlProp(value))| Prop { name, value }).collect()
}

/// `reference` as a path relative to `base` (absolute paths stay as they are).
fn resolve(base: &Path, reference: &str) -> String {
    let path = Path::new(reference);
    if path.is_absolute() { reference.to_string() } else { base.join(path).to_string_lossy().into_owned() }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |before| before.matches('\n').count()) + 1
}

impl ShowFile {
    /// Reads and parses the show file at `path`.
    pub fn read(path: &Path) -> Result<ShowFile, ShowFileError> {
        let read_error = |source| ShowFileError::Read { path: path.to_path_buf(), source };
        let size = std::fs::metadata(path).map_err(read_error)?.len();
        if size > MAX_SHOW_FILE_BYTES {
            return Err(ShowFileError::TooLarge { path: path.to_path_buf() });
        }
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        ShowFile::parse(&text, path)
    }

    /// Parses show file text; `path` names the file in errors and its folder is
    /// the base of relative module paths.
    pub fn parse(text: &str, path: &Path) -> Result<ShowFile, ShowFileError> {
        let raw: RawShow = toml::from_str(text).map_err(|e| ShowFileError::Syntax { path: path.to_path_buf(), message: e.to_string().trim_end().to_string() })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let Size(width, height) = raw.size.unwrap_or(Size(1920, 1080));
        let Fps(fps_num, fps_den) = raw.fps.unwrap_or(Fps(30, 1));
        let scenes = raw
            .scenes
            .into_iter()
            .map(|scene| SceneSpec { name: scene.name, layers: scene.layers.into_iter().map(|l| layer(base, l)).collect() })
            .collect();
        let spec = ShowSpec { width, height, fps_num, fps_den, scenes, program: raw.program };
        spec.validate().map_err(|source| ShowFileError::Show { path: path.to_path_buf(), source })?;
        let cues = raw
            .cues
            .into_iter()
            .map(|spanned| {
                let line = line_of(text, spanned.span().start);
                cue(base, &spec, spanned.into_inner()).map_err(|message| ShowFileError::Invalid { path: path.to_path_buf(), line, message })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ShowFile { spec, cues, length: raw.length.map(|t| t.0) })
    }
}

fn layer(base: &Path, raw: RawLayer) -> LayerSpec {
    let transform = raw.transform.map_or(Affine::IDENTITY, |[a, b, c, d, e, f]| Affine { a, b, c, d, e, f });
    let crop = raw.crop.map(|[x, y, width, height]| Rect { x, y, width, height });
    LayerSpec {
        module: resolve(base, &raw.module),
        id: raw.id,
        props: props(raw.props),
        transform,
        opacity: raw.opacity.unwrap_or(1.0),
        crop,
        visible: raw.visible.unwrap_or(true),
        z: raw.z,
    }
}

fn cue(base: &Path, spec: &ShowSpec, raw: RawCue) -> Result<Cue, String> {
    const FORMS: &str = "a cue has `layer` with `event` (and an optional `payload`) or with `props`, or `take` (with an optional `transition` and `duration`)";
    let at = raw.at.0;
    let action = match raw {
        RawCue { layer: Some(layer), event: Some(name), payload, props: None, take: None, transition: None, duration: None, .. } => {
            CueAction::Event { layer, event: Event { name, payload: payload.unwrap_or_default() } }
        }
        RawCue { layer: Some(layer), props: Some(raw_props), event: None, payload: None, take: None, transition: None, duration: None, .. } => {
            CueAction::SetProps { layer, props: props(raw_props) }
        }
        RawCue { take: Some(scene), transition, duration, layer: None, event: None, payload: None, props: None, .. } => {
            let transition = match (transition, duration) {
                (Some(module), duration) => Some((resolve(base, &module), duration.map_or(DEFAULT_TRANSITION, |d| d.0))),
                (None, Some(_)) => return Err("`duration` needs a `transition` (a take without one is a cut)".into()),
                (None, None) => None,
            };
            CueAction::Take { scene, transition }
        }
        _ => return Err(FORMS.into()),
    };
    match &action {
        CueAction::Event { layer, .. } | CueAction::SetProps { layer, .. } if spec.layer(layer).is_none() => {
            return Err(format!("the cue names layer `{layer}`, which no scene has"));
        }
        CueAction::Take { scene, .. } if spec.scene(scene).is_none() => {
            return Err(format!("the cue takes scene `{scene}`, which the show does not define"));
        }
        _ => {}
    }
    Ok(Cue { at, action })
}
