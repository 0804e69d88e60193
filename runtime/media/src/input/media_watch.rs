//! The life of one media input after its pipeline starts: the state an operator sees
//! (shared with [`super::MediaInput::status`]) and the thread that reads the pipeline's
//! bus and moves that state: Starting → Live on the first published frame, a flushing
//! seek back to the start at end-of-stream when looping, Ended or Failed otherwise.
//!
//! The bus thread is the only place that seeks or reacts to errors; it never runs on
//! the caller's thread or on a GStreamer streaming thread. Once the input is Ended or
//! Failed it sets the pipeline to NULL, clears the input and exits. It does not build
//! pipelines.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use showrunner_assets::LiveInputs;

use super::{AudioFeed, FrameCounters, InputEvent, InputEvents, InputSource, InputState, InputStatus};
use crate::elements::element_label;

/// Application message that wakes the bus thread so it sees the stop flag.
pub(super) const STOP_MESSAGE: &str = "showrunner-media-input-stop";
/// Application message carrying a failure found outside the bus (a pad that would not
/// link, a media without video); its `reason` field says what.
pub(super) const FAILURE_MESSAGE: &str = "showrunner-media-input-failure";

/// How often the bus thread checks for the first frame while Starting.
const STARTING_POLL: Duration = Duration::from_millis(10);
/// How long the bus thread waits for a message otherwise (a safety net: stop also posts
/// [`STOP_MESSAGE`]).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Longest GStreamer debug detail kept in a Failed state.
const MAX_DEBUG_CHARS: usize = 300;

/// What a media input shares between its owner, its bus thread and status readers.
pub(super) struct MediaShared {
    pub(super) name: String,
    pub(super) source: InputSource,
    pub(super) looping: bool,
    pub(super) counters: Arc<FrameCounters>,
    pub(super) inputs: LiveInputs,
    pub(super) events: InputEvents,
    /// Where the input's audio goes, if anywhere; emptied when the input finishes.
    audio: Option<AudioFeed>,
    /// Set by `stop`: the bus thread exits and makes no further changes.
    pub(super) stopping: AtomicBool,
    progress: Mutex<Progress>,
}

struct Progress {
    state: InputState,
    loops: u32,
    size: Option<(u32, u32)>,
}

impl MediaShared {
    pub(super) fn new(
        name: String,
        source: InputSource,
        looping: bool,
        counters: Arc<FrameCounters>,
        inputs: LiveInputs,
        events: InputEvents,
        audio: Option<AudioFeed>,
    ) -> MediaShared {
        let progress = Mutex::new(Progress { state: InputState::Starting, loops: 0, size: None });
        let stopping = AtomicBool::new(false);
        MediaShared { name, source, looping, counters, inputs, events, audio, stopping, progress }
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn status(&self) -> InputStatus {
        self.promote_if_live();
        self.refresh_size();
        let progress = self.progress();
        InputStatus {
            name: self.name.clone(),
            source: self.source.clone(),
            state: progress.state.clone(),
            frames: self.counters.published(),
            size: progress.size,
            loops: progress.loops,
            sessions: 0,
        }
    }

    fn is_starting(&self) -> bool {
        self.progress().state == InputState::Starting
    }

    /// Starting → Live once a frame has been published.
    fn promote_if_live(&self) {
        if self.counters.published() > 0 && self.is_starting() {
            self.transition(InputState::Live { peer: String::new() });
        }
    }

    /// Remembers the size of the frame on show, so it is still reported after a clear.
    fn refresh_size(&self) {
        if let Some(frame) = self.inputs.get(&self.name) {
            self.progress().size = Some((frame.width, frame.height));
        }
    }

    /// Moves to `next` and sends the event, unless the input already ended, failed or
    /// stopped (only Stopped may follow Ended or Failed) or is already there.
    pub(super) fn transition(&self, next: InputState) {
        let mut progress = self.progress();
        let finished = matches!(progress.state, InputState::Ended | InputState::Failed { .. });
        if progress.state == next || progress.state == InputState::Stopped || (finished && next != InputState::Stopped) {
            return;
        }
        progress.state = next.clone();
        self.events.send(InputEvent::StateChanged { name: self.name.clone(), state: next });
    }

    /// Takes the input off screen and its audio out of the feed (its pipeline must be
    /// stopped first, so no frame or sample follows) and moves to `last`.
    pub(super) fn finish(&self, last: InputState) {
        self.refresh_size();
        self.inputs.clear(&self.name);
        if let Some(audio) = &self.audio {
            audio.clear();
        }
        self.transition(last);
    }

    fn record_loop(&self) -> u32 {
        let mut progress = self.progress();
        progress.loops = progress.loops.saturating_add(1);
        let loops = progress.loops;
        self.events.send(InputEvent::Looped { name: self.name.clone(), loops });
        loops
    }
}

/// What the bus thread does after a message.
enum Next {
    Continue,
    /// The input ended or failed (the pipeline is NULL) or is stopping.
    Exit,
}

/// Reads `bus` until the input stops, ends or fails. Runs on its own thread.
pub(super) fn watch_bus(bus: gst::Bus, pipeline: gst::glib::WeakRef<gst::Pipeline>, shared: Arc<MediaShared>) {
    loop {
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        let wait = if shared.is_starting() { STARTING_POLL } else { IDLE_POLL };
        let message = bus.timed_pop(gst::ClockTime::from_nseconds(wait.as_nanos() as u64));
        shared.promote_if_live();
        let Some(message) = message else { continue };
        let Some(pipeline) = pipeline.upgrade() else { return };
        if let Next::Exit = handle(&message, &pipeline, &shared) {
            return;
        }
    }
}

fn handle(message: &gst::Message, pipeline: &gst::Pipeline, shared: &MediaShared) -> Next {
    use gst::MessageView;
    if shared.stopping.load(Ordering::Acquire) {
        return Next::Exit;
    }
    match message.view() {
        MessageView::Eos(_) if shared.looping => loop_to_start(pipeline, shared),
        MessageView::Eos(_) => {
            tracing::info!(input = %shared.name, "media input reached its end");
            stop_pipeline(pipeline, shared);
            shared.finish(InputState::Ended);
            Next::Exit
        }
        MessageView::Error(err) => {
            let element = message.src().map_or_else(|| "pipeline".to_owned(), element_label);
            let details = err.debug().map(|d| d.to_string()).unwrap_or_default();
            tracing::warn!(input = %shared.name, %element, message = %err.error(), %details, "media input failed");
            fail(pipeline, shared, describe_error(&err.error().to_string(), &element, &details))
        }
        MessageView::Application(app) => match app.structure() {
            Some(s) if s.name() == FAILURE_MESSAGE => {
                let reason = s.get::<String>("reason").unwrap_or_else(|_| "the pipeline failed".to_owned());
                fail(pipeline, shared, reason)
            }
            Some(s) if s.name() == STOP_MESSAGE => Next::Exit,
            _ => Next::Continue,
        },
        MessageView::Warning(warning) => {
            let element = message.src().map_or_else(|| "pipeline".to_owned(), element_label);
            tracing::warn!(input = %shared.name, %element, message = %warning.error(), debug = ?warning.debug(), "media input warning");
            Next::Continue
        }
        _ => Next::Continue,
    }
}

/// A flushing seek to the start: the pipeline stays up, decoders restart at the first
/// key frame and the running time starts again, so paced playback resumes at once.
fn loop_to_start(pipeline: &gst::Pipeline, shared: &MediaShared) -> Next {
    if shared.counters.published() == 0 {
        let reason = "the media reached its end without a single video frame, so it cannot loop".to_owned();
        return fail(pipeline, shared, reason);
    }
    let flags = gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT;
    match pipeline.seek_simple(flags, gst::ClockTime::ZERO) {
        Ok(()) => {
            let loops = shared.record_loop();
            tracing::debug!(input = %shared.name, loops, "media input looped");
            Next::Continue
        }
        Err(err) => {
            let reason = format!("cannot loop: seeking back to the start was refused ({err}); the source is not seekable");
            fail(pipeline, shared, reason)
        }
    }
}

fn fail(pipeline: &gst::Pipeline, shared: &MediaShared, error: String) -> Next {
    stop_pipeline(pipeline, shared);
    shared.finish(InputState::Failed { error });
    Next::Exit
}

fn stop_pipeline(pipeline: &gst::Pipeline, shared: &MediaShared) {
    if let Err(err) = pipeline.set_state(gst::State::Null) {
        tracing::warn!(input = %shared.name, ?err, "media input pipeline did not stop cleanly");
    }
}

/// GStreamer's message, the element that posted it and its debug detail without the
/// first line (a source location), bounded, e.g. `Internal data stream error. (source
/// (filesrc): streaming stopped, reason not-negotiated (-4))`.
fn describe_error(message: &str, element: &str, debug: &str) -> String {
    let detail: String = debug.lines().skip(1).collect::<Vec<_>>().join(" ").chars().take(MAX_DEBUG_CHARS).collect();
    if detail.is_empty() { format!("{message} ({element})") } else { format!("{message} ({element}: {detail})") }
}
