//! Cues and the [`Timeline`]: timed events, prop changes and takes from a show
//! file, fired on the first frame at or after their time. The render loop calls
//! [`Timeline::apply_due`] before [`Engine::frame`] for each frame.
//!
//! Must not: load modules while the show runs (transition modules are loaded when
//! the timeline is built) or stop the show over a failed cue (that is an event).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use showrunner_core::{Event, Prop, ShowSpec};
use showrunner_wasm::{LoadedModule, World};

use crate::engine::{Engine, TransitionChoice};
use crate::error::EngineError;
use crate::events::EngineEvent;

/// One timed action.
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    /// Time from the start of the show.
    pub at: Duration,
    pub action: CueAction,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CueAction {
    Event { layer: String, event: Event },
    SetProps { layer: String, props: Vec<Prop> },
    /// Puts `scene` on program, with a transition (module reference and duration) or as a cut.
    Take { scene: String, transition: Option<(String, Duration)> },
}

impl fmt::Display for CueAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CueAction::Event { layer, event } if event.payload.is_empty() => write!(f, "event `{}` to layer `{layer}`", event.name),
            CueAction::Event { layer, event } => write!(f, "event `{}` ({:?}) to layer `{layer}`", event.name, event.payload),
            CueAction::SetProps { layer, props } => {
                let names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
                write!(f, "props {} of layer `{layer}`", names.join(", "))
            }
            CueAction::Take { scene, transition: None } => write!(f, "cut to scene `{scene}`"),
            CueAction::Take { scene, transition: Some((module, duration)) } => {
                write!(f, "take scene `{scene}` with {module} over {}", humantime::format_duration(*duration))
            }
        }
    }
}

/// The first frame whose time is at or after `at`, at `num/den` fps.
pub fn frame_at(at: Duration, fps_num: u32, fps_den: u32) -> u64 {
    let (num, den) = if fps_num == 0 || fps_den == 0 { (30, 1) } else { (fps_num, fps_den) };
    let numerator = at.as_nanos().saturating_mul(u128::from(num));
    let denominator = u128::from(den) * 1_000_000_000;
    u64::try_from(numerator.div_ceil(denominator)).unwrap_or(u64::MAX)
}

struct ReadyCue {
    frame: u64,
    cue: Cue,
    /// The loaded transition of a take.
    transition: Option<TransitionChoice>,
}

/// Cues in time order with their frames, ready to fire.
pub struct Timeline {
    cues: Vec<ReadyCue>,
    next: usize,
}

impl Timeline {
    /// Checks every cue against `spec` (layers and scenes exist) and loads the
    /// transition modules with `load`.
    pub fn new<E: fmt::Display>(cues: &[Cue], spec: &ShowSpec, mut load: impl FnMut(&str) -> Result<Arc<LoadedModule>, E>) -> Result<Timeline, EngineError> {
        let mut ready = Vec::with_capacity(cues.len());
        for cue in cues {
            let mut transition = None;
            match &cue.action {
                CueAction::Event { layer, .. } | CueAction::SetProps { layer, .. } => {
                    if spec.layer(layer).is_none() {
                        return Err(EngineError::UnknownLayer(layer.clone()));
                    }
                }
                CueAction::Take { scene, transition: choice } => {
                    if spec.scene(scene).is_none() {
                        let known = spec.scenes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
                        return Err(EngineError::UnknownScene { name: scene.clone(), known });
                    }
                    if let Some((reference, duration)) = choice {
                        let module = load(reference).map_err(|e| EngineError::Load { module: reference.clone(), reason: e.to_string() })?;
                        if module.world != World::Transition {
                            return Err(EngineError::NotATransition { module: reference.clone(), world: module.world.name() });
                        }
                        transition = Some(TransitionChoice { module, duration: *duration });
                    }
                }
            }
            ready.push(ReadyCue { frame: frame_at(cue.at, spec.fps_num, spec.fps_den), cue: cue.clone(), transition });
        }
        ready.sort_by_key(|c| c.frame);
        Ok(Timeline { cues: ready, next: 0 })
    }

    /// Fires every cue due at or before `frame` that has not fired yet, in order,
    /// and returns how many fired. Each one is reported as a `CueFired` or
    /// `CueFailed` event.
    pub fn apply_due(&mut self, engine: &mut Engine, frame: u64) -> usize {
        let mut fired = 0;
        while let Some(ready) = self.cues.get(self.next).filter(|c| c.frame <= frame) {
            self.next += 1;
            fired += 1;
            let outcome = match &ready.cue.action {
                CueAction::Event { layer, event } => engine.event(layer, event.clone()),
                CueAction::SetProps { layer, props } => engine.set_props(layer, props),
                CueAction::Take { scene, .. } => engine.take(scene, ready.transition.clone()),
            };
            let (at, cue) = (ready.cue.at, ready.cue.action.to_string());
            engine.push_event(match outcome {
                Ok(()) => EngineEvent::CueFired { at, frame, cue },
                Err(e) => EngineEvent::CueFailed { at, frame, cue, error: e.to_string() },
            });
        }
        fired
    }

    /// Makes every cue due again, from the first: a live show that loops its timeline
    /// calls it when the loop starts over (and passes frames counted from there).
    pub fn rewind(&mut self) {
        self.next = 0;
    }

    /// Frame of the last cue (0 without cues).
    pub fn last_frame(&self) -> u64 {
        self.cues.last().map_or(0, |c| c.frame)
    }

    /// Cues not fired yet.
    pub fn remaining(&self) -> usize {
        self.cues.len() - self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cue_fires_on_the_first_frame_at_or_after_its_time() {
        assert_eq!(frame_at(Duration::ZERO, 30, 1), 0);
        assert_eq!(frame_at(Duration::from_millis(500), 30, 1), 15);
        assert_eq!(frame_at(Duration::from_millis(510), 30, 1), 16);
        assert_eq!(frame_at(Duration::from_secs(1), 30_000, 1001), 30);
        assert_eq!(frame_at(Duration::from_millis(1001), 30_000, 1001), 30);
        assert_eq!(frame_at(Duration::from_secs(3600), 25, 1), 90_000);
    }

    #[test]
    fn cues_describe_themselves() {
        let take = CueAction::Take { scene: "second".into(), transition: Some(("crossfade.wasm".into(), Duration::from_millis(1500))) };
        assert_eq!(take.to_string(), "take scene `second` with crossfade.wasm over 1s 500ms");
        let event = CueAction::Event { layer: "score".into(), event: Event { name: "home-score".into(), payload: "+1".into() } };
        assert_eq!(event.to_string(), "event `home-score` (\"+1\") to layer `score`");
    }
}
