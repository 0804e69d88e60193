//! The one error type of showrunner-media. Every variant says what failed and, where
//! there is one, what to do about it. It owns no behaviour: nothing here retries or logs.

use std::path::PathBuf;
use std::time::Duration;

/// An error reported by a GStreamer element on the pipeline's bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineFailure {
    /// The element that posted the error: its name in our pipeline and its factory,
    /// e.g. `file-sink (filesink)`.
    pub element: String,
    /// GStreamer's message, e.g. `Could not open file "/proc/x.mp4" for writing.`
    pub message: String,
    /// GStreamer's debug details (source location and system error), may be empty.
    pub debug: String,
}

impl std::fmt::Display for PipelineFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GStreamer element `{}` failed: {}", self.element, self.message)?;
        if !self.debug.is_empty() {
            write!(f, " (debug: {})", self.debug)?;
        }
        Ok(())
    }
}

/// A GStreamer element that showrunner needs but this host lacks, with the Debian
/// package that provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingElement {
    pub element: &'static str,
    pub package: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// An [`crate::EncoderSettings`] field is out of range.
    #[error("invalid encoder setting `{field}` = {value}: {allowed}")]
    InvalidSettings { field: &'static str, value: String, allowed: String },

    #[error(
        "GStreamer could not be initialised: {reason}; install the GStreamer runtime \
         (Debian: libgstreamer1.0-0, or run `cargo xtask setup`)"
    )]
    GstInit { reason: String },

    #[error(
        "missing GStreamer elements: {}; install them with `apt-get install {}` (or run `cargo xtask setup`)",
        list_elements(.missing),
        list_packages(.missing)
    )]
    MissingElements { missing: Vec<MissingElement> },

    /// The installed plugin does not have a property the pipeline sets, or has it with
    /// another type: a GStreamer version showrunner does not support.
    #[error(
        "GStreamer element `{element}` has no writable property `{property}` accepting {value}; \
         the installed GStreamer plugin is not one showrunner supports (GStreamer 1.22 or newer)"
    )]
    ElementProperty { element: String, property: String, value: String },

    #[error("cannot pick a container for {path:?}: the file name must end in .mp4 or .mkv")]
    UnsupportedContainer { path: PathBuf },

    #[error("output path {path:?} is not valid UTF-8, which GStreamer's filesink needs")]
    NonUtf8Path { path: PathBuf },

    /// [`crate::FileEncoder::push_frame`] got a buffer of the wrong length; nothing was
    /// pushed and the encoder is still usable.
    #[error(
        "frame buffer has {actual} bytes but a {width}x{height} RGBA8 frame needs {expected} \
         (width*4 bytes per row, top row first)"
    )]
    FrameSize { expected: usize, actual: usize, width: u32, height: u32 },

    #[error("{0}")]
    Pipeline(PipelineFailure),

    /// GStreamer refused a step without posting an error that explains it.
    #[error("the encoder pipeline for {target} failed to {action}: {reason}")]
    PipelineStep { target: String, action: &'static str, reason: String },

    #[error(
        "the encoder pipeline for {target} did not drain within {timeout:?} after end-of-stream; \
         the output file is incomplete"
    )]
    FinishTimeout { target: String, timeout: Duration },

    /// A live output (RTMP URL, recording path) was refused before anything started.
    #[error("output {target} is not usable: {reason}")]
    InvalidOutput { target: String, reason: String },

    /// A live input (media URI, ingest key) was refused before anything started.
    #[error("input `{input}` is not usable: {reason}")]
    InvalidInput { input: String, reason: String },

    /// GStreamer could not build or start an input's decode pipeline.
    #[error("input `{input}` could not be set up: {reason}")]
    InputSetup { input: String, reason: String },

    #[error("there is no input named `{name}`")]
    UnknownInput { name: String },

    #[error("there is no output named `{id}`")]
    UnknownOutput { id: String },

    /// Live frames are pushed in increasing index order (gaps allowed).
    #[error("frame {index} was pushed after frame {last}: live frame indices must increase")]
    FrameOrder { index: u64, last: u64 },

    #[error("frame {frame} is past the last timestamp GStreamer can represent at this frame rate")]
    TimestampOverflow { frame: u64 },

    /// `finish` was called before any frame was pushed: there is no video to write,
    /// and the empty file is removed.
    #[error("no frames were pushed to {path:?}; no video was written")]
    NoFrames { path: PathBuf },

    #[error("{action} {path:?}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn list_elements(missing: &[MissingElement]) -> String {
    let items: Vec<String> = missing.iter().map(|m| format!("{} (package {})", m.element, m.package)).collect();
    items.join(", ")
}

fn list_packages(missing: &[MissingElement]) -> String {
    let mut packages: Vec<&str> = missing.iter().map(|m| m.package).collect();
    packages.sort_unstable();
    packages.dedup();
    packages.join(" ")
}
