//! [`LoadedShow`]: a show file opened and started: its modules loaded from disk,
//! its props checked against them, the engine running and the timeline ready.
//! This is what `showrunner render` and `showrunner run` start from.
//!
//! Must not: render anything or decide how long a live show runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use showrunner_wasm::Host;

use crate::cue::{CueAction, Timeline, frame_at};
use crate::engine::{Engine, EngineOptions};
use crate::error::EngineError;
use crate::modules::ModuleFiles;
use crate::props::conform_props;
use crate::show_file::{ShowFile, ShowFileError};

/// Length of an offline render after the last cue when the file gives no `length`.
pub const TAIL_AFTER_LAST_CUE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ShowLoadError {
    #[error(transparent)]
    File(#[from] ShowFileError),
    #[error("show file {path}: {source}")]
    Engine { path: PathBuf, source: EngineError },
}

pub struct LoadedShow {
    pub file: ShowFile,
    pub engine: Engine,
    pub timeline: Timeline,
}

impl LoadedShow {
    /// Reads the show file at `path`, loads its modules with `host`, checks every
    /// layer's and cue's props against its module, and starts the engine.
    pub fn open(path: &Path, host: &Arc<Host>, options: EngineOptions) -> Result<LoadedShow, ShowLoadError> {
        let file = ShowFile::read(path)?;
        let in_file = |source| ShowLoadError::Engine { path: path.to_path_buf(), source };
        let mut modules = ModuleFiles::new(host.clone());
        let engine = Engine::new(host.clone(), file.spec.clone(), options, |r| modules.load(r)).map_err(in_file)?;
        for cue in &file.cues {
            if let CueAction::SetProps { layer, props } = &cue.action {
                let module = engine.pool().module_of(layer).ok_or_else(|| in_file(EngineError::UnknownLayer(layer.clone())))?;
                conform_props(&module.info, props).map_err(|source| in_file(EngineError::Props { layer: layer.clone(), source }))?;
            }
        }
        let timeline = Timeline::new(&file.cues, engine.spec(), |r| modules.load(r)).map_err(in_file)?;
        Ok(LoadedShow { file, engine, timeline })
    }

    /// Frames an offline render runs: the file's `length`, or up to the last cue
    /// plus [`TAIL_AFTER_LAST_CUE`].
    pub fn frames(&self) -> u64 {
        let spec = self.engine.spec();
        match self.file.length {
            Some(length) => frame_at(length, spec.fps_num, spec.fps_den),
            None => self.timeline.last_frame() + frame_at(TAIL_AFTER_LAST_CUE, spec.fps_num, spec.fps_den),
        }
    }
}
