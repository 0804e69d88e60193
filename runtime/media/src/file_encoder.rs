//! Offline encoding of composited frames to a video file (H.264 in MP4 or Matroska).
//! It owns the container choice, frame timestamps and the file's lifecycle. It may block
//! the calling thread (back-pressure from the encoder, draining at `finish`): it is for
//! offline rendering only, never for a live render loop.
//!
//! An MP4 file is only valid after [`FileEncoder::finish`]: mp4mux writes its index
//! (`moov`) at end-of-stream, so a process that dies mid-render leaves an unplayable
//! `.mp4`. A `.mkv` is written as self-contained clusters and stays playable up to the
//! last cluster written if the process dies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gstreamer as gst;

use crate::composite::composite_over_background;
use crate::elements::{self, make, set_property};
use crate::pipeline::{EncoderPipeline, EncoderPipelineBuilder};
use crate::{EncoderSettings, MediaError};

/// How long [`FileEncoder::finish`] waits for the encoder to drain after end-of-stream.
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(120);
/// How long dropping an unfinished encoder waits for it to drain.
const DROP_FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// The container a file is written in, picked from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `.mp4`, via mp4mux: valid only once finished.
    Mp4,
    /// `.mkv`, via matroskamux: playable even if the process dies.
    Matroska,
}

impl Container {
    /// `.mp4` → MP4, `.mkv` → Matroska (case-insensitive); anything else is an error.
    pub fn from_path(path: &Path) -> Result<Container, MediaError> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("mp4") => Ok(Container::Mp4),
            Some("mkv") => Ok(Container::Matroska),
            _ => Err(MediaError::UnsupportedContainer { path: path.to_owned() }),
        }
    }

    fn muxer_factory(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4mux",
            Container::Matroska => "matroskamux",
        }
    }
}

/// What [`FileEncoder::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeSummary {
    pub path: PathBuf,
    pub container: Container,
    pub frames_written: u64,
    /// Media duration: frames × frame length.
    pub duration: Duration,
    pub file_size_bytes: u64,
}

/// Encodes straight-alpha RGBA8 frames to an H.264 video file, one frame at a time.
///
/// Frame `n` (counting from 0) is shown at `n * fps_den / fps_num` seconds for one frame
/// length. Dropping an encoder without [`FileEncoder::finish`] still drains it (up to
/// 10 s) so the file is playable, and logs a warning.
pub struct FileEncoder {
    settings: EncoderSettings,
    path: PathBuf,
    container: Container,
    pipeline: EncoderPipeline,
    frames_written: u64,
    finished: bool,
}

impl FileEncoder {
    /// Validates `settings`, picks the container from `path`'s extension, builds the
    /// pipeline and opens `path` for writing (truncating it). Fails here, not at
    /// `finish`, when the path cannot be written or an element is missing.
    pub fn create(path: &Path, settings: &EncoderSettings) -> Result<FileEncoder, MediaError> {
        settings.validate()?;
        let container = Container::from_path(path)?;
        let location = path.to_str().ok_or_else(|| MediaError::NonUtf8Path { path: path.to_owned() })?;
        elements::init()?;
        let muxer = make(container.muxer_factory(), "muxer")?;
        let sink = make("filesink", "file-sink")?;
        set_property(&sink, "location", location)?;
        let pipeline = EncoderPipelineBuilder::new(settings, path.display().to_string()).build(muxer, sink)?;
        pipeline.start()?;
        tracing::debug!(path = %path.display(), ?container, ?settings, "file encoder started");
        Ok(FileEncoder {
            settings: settings.clone(),
            path: path.to_owned(),
            container,
            pipeline,
            frames_written: 0,
            finished: false,
        })
    }

    /// Composites `rgba` (straight-alpha sRGB, `width * 4` bytes per row, top row first)
    /// over the background and queues it as the next frame. Blocks while the encoder
    /// is behind. A buffer of the wrong length is rejected before anything is queued,
    /// and the encoder stays usable.
    pub fn push_frame(&mut self, rgba: &[u8]) -> Result<(), MediaError> {
        self.check_length(rgba.len())?;
        let mut buffer = gst::Buffer::with_size(rgba.len()).map_err(|e| self.buffer_error(e.to_string()))?;
        {
            let writable = buffer.get_mut().ok_or_else(|| self.buffer_error("new buffer is shared".to_owned()))?;
            let mut map = writable.map_writable().map_err(|e| self.buffer_error(e.to_string()))?;
            composite_over_background(rgba, map.as_mut_slice(), self.settings.background);
        }
        self.queue(buffer)
    }

    /// Queues `rgbx` as the next frame as it is, without compositing or copying:
    /// RGBA8 already composited over an opaque background (every alpha 255, as the
    /// compositor delivers with a background set), `width * 4` bytes per row. The
    /// fourth byte is ignored. Same blocking and length check as
    /// [`FileEncoder::push_frame`].
    pub fn push_opaque_frame<T: AsRef<[u8]> + Send + 'static>(&mut self, rgbx: T) -> Result<(), MediaError> {
        self.check_length(rgbx.as_ref().len())?;
        self.queue(gst::Buffer::from_slice(rgbx))
    }

    fn check_length(&self, actual: usize) -> Result<(), MediaError> {
        let expected = self.settings.frame_bytes();
        if actual != expected {
            return Err(MediaError::FrameSize { expected, actual, width: self.settings.width, height: self.settings.height });
        }
        Ok(())
    }

    fn buffer_error(&self, reason: String) -> MediaError {
        MediaError::PipelineStep { target: self.path.display().to_string(), action: "allocate a frame buffer", reason }
    }

    /// Stamps `buffer` with the next frame's pts and duration and pushes it.
    fn queue(&mut self, mut buffer: gst::Buffer) -> Result<(), MediaError> {
        let n = self.frames_written;
        let overflow = || MediaError::TimestampOverflow { frame: n };
        let pts = self.settings.frame_pts_nanos(n).ok_or_else(overflow)?;
        let next_pts = self.settings.frame_pts_nanos(n + 1).ok_or_else(overflow)?;
        {
            let writable = buffer.get_mut().ok_or_else(|| self.buffer_error("frame buffer is shared".to_owned()))?;
            writable.set_pts(gst::ClockTime::from_nseconds(pts));
            writable.set_duration(gst::ClockTime::from_nseconds(next_pts - pts));
        }
        self.pipeline.push(buffer)?;
        self.frames_written += 1;
        Ok(())
    }

    /// Frames accepted so far.
    pub fn frames_written(&self) -> u64 {
        self.frames_written
    }

    /// Sends end-of-stream, waits up to [`FINISH_TIMEOUT`] for the muxer to write the
    /// file's index, stops the pipeline and reports what was written. With no frames
    /// pushed there is no video: the empty file is removed and [`MediaError::NoFrames`]
    /// returned.
    pub fn finish(self) -> Result<EncodeSummary, MediaError> {
        self.finish_within(FINISH_TIMEOUT)
    }

    /// [`FileEncoder::finish`] with another drain timeout.
    pub fn finish_within(mut self, timeout: Duration) -> Result<EncodeSummary, MediaError> {
        self.finished = true;
        if self.frames_written == 0 {
            self.pipeline.stop()?;
            remove_empty_output(&self.path);
            return Err(MediaError::NoFrames { path: self.path.clone() });
        }
        self.pipeline.finish(timeout)?;
        let metadata = std::fs::metadata(&self.path).map_err(|source| MediaError::Io {
            action: "reading the size of the finished video",
            path: self.path.clone(),
            source,
        })?;
        let duration = Duration::from_nanos(self.settings.frame_pts_nanos(self.frames_written).unwrap_or(u64::MAX));
        Ok(EncodeSummary {
            path: self.path.clone(),
            container: self.container,
            frames_written: self.frames_written,
            duration,
            file_size_bytes: metadata.len(),
        })
    }
}

impl Drop for FileEncoder {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if self.frames_written == 0 {
            let _ = self.pipeline.stop();
            remove_empty_output(&self.path);
            return;
        }
        tracing::warn!(path = %self.path.display(), frames = self.frames_written, "FileEncoder dropped without finish(); finishing it so the file is playable");
        if let Err(err) = self.pipeline.finish(DROP_FINISH_TIMEOUT) {
            tracing::warn!(path = %self.path.display(), %err, "dropped FileEncoder did not finish; the file may be unplayable");
        }
    }
}

/// Removes the zero-frame output the sink created; a file that was never created (or
/// already removed) is fine.
fn remove_empty_output(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(path = %path.display(), %err, "could not remove the empty output file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI may encode on another thread than it renders on.
    #[test]
    fn file_encoder_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<FileEncoder>();
        assert_send::<MediaError>();
    }

    #[test]
    fn container_follows_the_extension() {
        assert_eq!(Container::from_path(Path::new("a/b.mp4")).ok(), Some(Container::Mp4));
        assert_eq!(Container::from_path(Path::new("b.MKV")).ok(), Some(Container::Matroska));
        for bad in ["b.avi", "b", "mp4", "b.mp4.tmp"] {
            assert!(
                matches!(Container::from_path(Path::new(bad)), Err(MediaError::UnsupportedContainer { .. })),
                "{bad}"
            );
        }
    }
}
