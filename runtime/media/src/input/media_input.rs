//! Media inputs: a file or URL decoded by `uridecodebin` and published frame by frame to
//! [`LiveInputs`] at the media's own speed, optionally looping.
//!
//! It owns validating the name and URI, building `uridecodebin ! FrameSink(sync)` (the
//! first raw video stream is shown; with an [`AudioFeed`] the first raw audio stream is
//! converted to S16LE stereo 44.1 kHz and pushed to it from a synced `appsink`; other
//! streams go to a synced `fakesink` so nothing stalls), starting it, and stopping it. What happens after the
//! start (first frame, loops, end, errors) is the bus thread's, in `media_watch`.
//! Nothing here blocks on decoding: `start` returns before the media prerolls.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use showrunner_assets::LiveInputs;

use super::audio_branch::link_audio_feed;
use super::media_watch::{FAILURE_MESSAGE, MediaShared, STOP_MESSAGE, watch_bus};
use super::{AudioFeed, FrameSink, InputEvents, InputSource, InputState, InputStatus};
use crate::elements::init;
use crate::error::MediaError;

/// Longest input name, in bytes.
pub const MAX_INPUT_NAME_BYTES: usize = 64;
/// Longest media URI or path, in bytes.
pub const MAX_MEDIA_URI_BYTES: usize = 4096;

/// What a media input plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInputSettings {
    /// The name `video` ops draw it by: 1 to 64 bytes of `A-Z a-z 0-9 _ - .`.
    pub name: String,
    /// A file path (absolute or relative to the working directory) or a URI whose
    /// scheme a GStreamer source handles (`file://`, `http://`, `https://`, `rtsp://`…).
    pub uri: String,
    /// Start again from the beginning at the end, forever.
    pub looping: bool,
}

/// A running media input. Stopping it (or dropping it) tears the pipeline down and takes
/// the input off screen.
pub struct MediaInput {
    shared: Arc<MediaShared>,
    pipeline: gst::Pipeline,
    bus_thread: Option<JoinHandle<()>>,
}

impl MediaInput {
    /// Validates the settings (a missing file is [`MediaError::InvalidInput`] naming the
    /// path), builds the pipeline and starts it; returns at once without waiting for
    /// the media to open. Errors found later (not media, unreachable URL, unsupported
    /// codec) show as [`InputState::Failed`] in [`MediaInput::status`] and as events.
    pub fn start(settings: MediaInputSettings, inputs: LiveInputs, events: InputEvents) -> Result<MediaInput, MediaError> {
        MediaInput::start_with_audio(settings, inputs, events, None)
    }

    /// [`MediaInput::start`], also pushing the media's first audio stream to `audio`
    /// (at the media's own pace; a media without audio pushes nothing). The feed is
    /// cleared when the input stops, ends or fails, so its taker falls back to silence.
    pub fn start_with_audio(
        settings: MediaInputSettings,
        inputs: LiveInputs,
        events: InputEvents,
        audio: Option<AudioFeed>,
    ) -> Result<MediaInput, MediaError> {
        validate_name(&settings.name)?;
        init()?;
        let uri = resolve_uri(&settings.name, &settings.uri)?;
        let name = settings.name;
        let sink = FrameSink::new(&name, inputs.clone(), true)?;
        let source = InputSource::Media { uri: uri.clone(), looping: settings.looping };
        let shared = Arc::new(MediaShared::new(
            name.clone(),
            source,
            settings.looping,
            sink.counters.clone(),
            inputs,
            events.clone(),
            audio.clone(),
        ));
        let pipeline = build_pipeline(&name, &uri, &sink, audio)?;
        let setup_error = |reason: String| MediaError::InputSetup { input: name.clone(), reason };
        let bus = pipeline.bus().ok_or_else(|| setup_error("the pipeline has no bus".to_owned()))?;
        let thread_shared = Arc::clone(&shared);
        let weak_pipeline = pipeline.downgrade();
        let bus_thread = std::thread::Builder::new()
            .name(format!("input-{name}"))
            .spawn(move || watch_bus(bus, weak_pipeline, thread_shared))
            .map_err(|e| setup_error(format!("cannot start the bus thread: {e}")))?;
        let input = MediaInput { shared, pipeline, bus_thread: Some(bus_thread) };
        events.send(super::InputEvent::StateChanged { name: name.clone(), state: InputState::Starting });
        if let Err(err) = input.pipeline.set_state(gst::State::Playing) {
            // The element's own error is already on the bus, ahead of this one.
            post_failure(input.pipeline.upcast_ref(), format!("GStreamer refused to start the pipeline: {err}"));
        }
        tracing::info!(input = %name, %uri, looping = settings.looping, "media input started");
        Ok(input)
    }

    pub fn status(&self) -> InputStatus {
        self.shared.status()
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Stops the pipeline, takes the input off screen (`video` ops draw nothing) and
    /// moves it to [`InputState::Stopped`]. Joins the bus thread; returns promptly.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let Some(bus_thread) = self.bus_thread.take() else { return };
        self.shared.stopping.store(true, Ordering::Release);
        if let Some(bus) = self.pipeline.bus() {
            let wake = gst::message::Application::new(gst::Structure::new_empty(STOP_MESSAGE));
            let _ = bus.post(wake);
        }
        if bus_thread.join().is_err() {
            tracing::error!(input = %self.shared.name, "media input bus thread panicked");
        }
        if let Err(err) = self.pipeline.set_state(gst::State::Null) {
            tracing::warn!(input = %self.shared.name, ?err, "media input pipeline did not stop cleanly");
        }
        self.shared.finish(InputState::Stopped);
        tracing::info!(input = %self.shared.name, "media input stopped");
    }
}

impl Drop for MediaInput {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// `uridecodebin uri=… ! FrameSink` (and the audio branch to `audio`), with pads linked
/// as they appear.
fn build_pipeline(name: &str, uri: &str, sink: &FrameSink, audio: Option<AudioFeed>) -> Result<gst::Pipeline, MediaError> {
    let setup_error = |reason: String| MediaError::InputSetup { input: name.to_owned(), reason };
    let decoder = gst::ElementFactory::make("uridecodebin")
        .name("decoder")
        .property("uri", uri)
        .build()
        .map_err(|e| setup_error(format!("cannot make uridecodebin (gstreamer1.0-plugins-base): {e}")))?;
    let pipeline = gst::Pipeline::with_name(&format!("media-input-{name}"));
    pipeline.add(&decoder).map_err(|e| setup_error(format!("cannot add uridecodebin: {e}")))?;
    sink.add_to(pipeline.upcast_ref())?;
    let video_pad = sink.first().static_pad("sink").ok_or_else(|| setup_error("videoconvert has no sink pad".to_owned()))?;

    let video_linked = Arc::new(AtomicBool::new(false));
    let linked = Arc::clone(&video_linked);
    let audio_linked = AtomicBool::new(false);
    let weak_pipeline = pipeline.downgrade();
    decoder.connect_pad_added(move |decoder, pad| {
        let Some(pipeline) = weak_pipeline.upgrade() else { return };
        let kind = raw_kind(pad);
        if kind == Some("video/x-raw") && !linked.swap(true, Ordering::AcqRel) {
            if let Err(err) = pad.link(&video_pad) {
                post_failure(decoder, format!("cannot link the decoded video to the frame sink: {err:?}"));
            }
        } else if let Some(feed) = audio.as_ref().filter(|_| kind == Some("audio/x-raw"))
            && !audio_linked.swap(true, Ordering::AcqRel)
        {
            if let Err(reason) = link_audio_feed(&pipeline, pad, feed.clone(), true) {
                post_failure(decoder, reason);
            }
        } else if let Err(reason) = discard(&pipeline, pad) {
            post_failure(decoder, reason);
        }
    });
    decoder.connect_no_more_pads(move |decoder| {
        if !video_linked.load(Ordering::Acquire) {
            post_failure(decoder, "the media has no video stream GStreamer can decode".to_owned());
        }
    });
    Ok(pipeline)
}

/// The media type of a decoded pad (`video/x-raw`, `audio/x-raw`, …).
fn raw_kind(pad: &gst::Pad) -> Option<&'static str> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let name = caps.structure(0).map(|s| s.name().to_string())?;
    ["video/x-raw", "audio/x-raw"].into_iter().find(|kind| *kind == name)
}

/// Links a stream nobody shows (audio, a second video) to a synced `fakesink`, so the
/// demuxer never stalls on it.
fn discard(pipeline: &gst::Pipeline, pad: &gst::Pad) -> Result<(), String> {
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", true)
        .build()
        .map_err(|e| format!("cannot make a fakesink for stream {}: {e}", pad.name()))?;
    pipeline.add(&sink).map_err(|e| format!("cannot add a fakesink: {e}"))?;
    let sink_pad = sink.static_pad("sink").ok_or_else(|| "fakesink has no sink pad".to_owned())?;
    pad.link(&sink_pad).map_err(|e| format!("cannot link stream {} to a fakesink: {e:?}", pad.name()))?;
    sink.sync_state_with_parent().map_err(|e| format!("cannot start a fakesink: {e}"))?;
    Ok(())
}

/// Hands a failure found on a streaming thread to the bus thread.
fn post_failure(element: &gst::Element, reason: String) {
    let structure = gst::Structure::builder(FAILURE_MESSAGE).field("reason", reason).build();
    let message = gst::message::Application::builder(structure).src(element).build();
    if element.post_message(message).is_err() {
        tracing::warn!(element = %element.name(), "could not post a media input failure to the bus");
    }
}

/// 1 to [`MAX_INPUT_NAME_BYTES`] bytes of `A-Z a-z 0-9 _ - .`.
fn validate_name(name: &str) -> Result<(), MediaError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    if name.is_empty() || name.len() > MAX_INPUT_NAME_BYTES || !name.bytes().all(allowed) {
        let shown: String = name.escape_debug().take(MAX_INPUT_NAME_BYTES + 8).collect();
        return Err(MediaError::InvalidInput {
            input: shown,
            reason: format!(
                "a name is 1 to {MAX_INPUT_NAME_BYTES} bytes of letters, digits, `_`, `-` and `.` (got {} bytes)",
                name.len()
            ),
        });
    }
    Ok(())
}

/// The URI to give `uridecodebin`: a path that exists becomes a `file://` URI; a URI
/// must have a scheme some installed GStreamer source handles.
fn resolve_uri(name: &str, raw: &str) -> Result<String, MediaError> {
    let invalid = |reason: String| MediaError::InvalidInput { input: name.to_owned(), reason };
    if raw.is_empty() {
        return Err(invalid("the media URI is empty; give a file path or a URI".to_owned()));
    }
    if raw.len() > MAX_MEDIA_URI_BYTES {
        return Err(invalid(format!("the media URI is {} bytes, more than {MAX_MEDIA_URI_BYTES}", raw.len())));
    }
    let Some(scheme) = uri_scheme(raw) else { return file_uri(Path::new(raw)).map_err(invalid) };
    if scheme.eq_ignore_ascii_case("file") {
        let (path, _host) = glib::filename_from_uri(raw).map_err(|e| invalid(format!("`{raw}` is not a valid file URI: {e}")))?;
        return file_uri(&path).map_err(invalid);
    }
    gst::Element::make_from_uri(gst::URIType::Src, raw, None).map_err(|e| {
        invalid(format!(
            "no installed GStreamer source reads `{scheme}://` URIs ({e}); install the plugin for it \
             (http/https: gstreamer1.0-plugins-good, rtsp: gstreamer1.0-plugins-good)"
        ))
    })?;
    Ok(raw.to_owned())
}

/// The scheme of `raw` when it is written `scheme://…` (RFC 3986 scheme characters).
fn uri_scheme(raw: &str) -> Option<&str> {
    let (scheme, _) = raw.split_once("://")?;
    let mut chars = scheme.chars();
    let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_is_letter && rest_ok).then_some(scheme)
}

/// `file://` URI of an existing regular file; the error names the path.
fn file_uri(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("media file {path:?} does not exist"),
        _ => format!("cannot read media file {path:?}: {e}"),
    })?;
    if metadata.is_dir() {
        return Err(format!("media path {path:?} is a directory, not a file"));
    }
    let absolute = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve media file {path:?}: {e}"))?;
    glib::filename_to_uri(&absolute, None)
        .map(|uri| uri.to_string())
        .map_err(|e| format!("cannot make a file URI of {absolute:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_plain() {
        assert!(validate_name("cam-1.main_feed").is_ok());
        assert!(validate_name(&"a".repeat(MAX_INPUT_NAME_BYTES)).is_ok());
        for bad in ["", "has space", "slash/name", "ünï", &"a".repeat(MAX_INPUT_NAME_BYTES + 1)] {
            assert!(matches!(validate_name(bad), Err(MediaError::InvalidInput { .. })), "{bad:?} was accepted");
        }
    }

    #[test]
    fn schemes_are_recognised_only_before_colon_slash_slash() {
        assert_eq!(uri_scheme("https://example.com/a.mp4"), Some("https"));
        assert_eq!(uri_scheme("file:///tmp/a.mp4"), Some("file"));
        assert_eq!(uri_scheme("clips/a.mp4"), None);
        assert_eq!(uri_scheme("weird name://x"), None);
        assert_eq!(uri_scheme("1abc://x"), None);
    }

    #[test]
    fn paths_become_file_uris_and_missing_ones_are_named() {
        init().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("a clip.mp4");
        std::fs::write(&clip, b"x").unwrap();
        let uri = resolve_uri("cam", clip.to_str().unwrap()).unwrap();
        assert!(uri.starts_with("file:///") && uri.ends_with("a%20clip.mp4"), "{uri}");
        assert_eq!(resolve_uri("cam", &uri).unwrap(), uri);
        let missing = dir.path().join("gone.mp4");
        let err = resolve_uri("cam", missing.to_str().unwrap()).unwrap_err();
        assert!(matches!(&err, MediaError::InvalidInput { .. }) && err.to_string().contains("gone.mp4"), "{err}");
        let err = resolve_uri("cam", dir.path().to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
        let err = resolve_uri("cam", "nosuchscheme://host/x").unwrap_err();
        assert!(err.to_string().contains("nosuchscheme"), "{err}");
    }
}
