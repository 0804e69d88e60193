//! Where `showrunner render` writes frames: one PNG (the last frame), a numbered PNG
//! sequence (`frames/%05d.png`), or a video file through GStreamer (`.mp4`, `.mkv`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use showrunner_media::{EncoderSettings, FileEncoder};
use showrunner_render::Frame;

/// An output chosen from the `--out` path.
pub enum FrameSink {
    /// Keeps the latest frame (shared, not copied) and writes it at the end.
    Still { path: PathBuf, last: Option<Frame> },
    /// `prefix` + zero-padded number (`width` digits, 0 = unpadded) + `suffix`.
    Sequence { prefix: String, width: usize, suffix: String, written: u64 },
    /// Frames composited over `background` by the compositor go to the encoder as
    /// they are.
    Video { path: PathBuf, encoder: Option<FileEncoder>, background: [u8; 3] },
}

/// What was written, for the summary line.
pub struct Written {
    pub description: String,
}

impl FrameSink {
    /// Picks the sink from the path: `.png` (with a `%d`/`%0Nd` pattern for a
    /// sequence), `.mp4` or `.mkv`.
    pub fn open(out: &Path, settings: &EncoderSettings) -> anyhow::Result<FrameSink> {
        let text = out.to_string_lossy().to_string();
        let ext = out.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create the folder {}", parent.display()))?;
        }
        match ext.as_str() {
            "png" => match parse_pattern(&text)? {
                Some((prefix, width, suffix)) => Ok(FrameSink::Sequence { prefix, width, suffix, written: 0 }),
                None => Ok(FrameSink::Still { path: out.to_path_buf(), last: None }),
            },
            "mp4" | "mkv" => {
                showrunner_media::probe_elements().context("GStreamer is not ready to encode video")?;
                let encoder = FileEncoder::create(out, settings).with_context(|| format!("cannot start encoding {}", out.display()))?;
                Ok(FrameSink::Video { path: out.to_path_buf(), encoder: Some(encoder), background: settings.background })
            }
            _ => bail!(
                "cannot write `{}`: use out.png (the last frame), a numbered sequence like frames/%05d.png, out.mp4 or out.mkv",
                out.display()
            ),
        }
    }

    /// The opaque colour the compositor must composite frames over for this sink
    /// (video has no alpha); `None`: frames keep their alpha (PNG).
    pub fn background(&self) -> Option<[u8; 3]> {
        match self {
            FrameSink::Video { background, .. } => Some(*background),
            FrameSink::Still { .. } | FrameSink::Sequence { .. } => None,
        }
    }

    /// Takes one frame from a compositor set up with [`FrameSink::background`].
    pub fn push(&mut self, frame: &Frame) -> anyhow::Result<()> {
        match self {
            FrameSink::Still { last, .. } => {
                *last = Some(frame.clone());
                Ok(())
            }
            FrameSink::Sequence { prefix, width: digits, suffix, written } => {
                let path = format!("{prefix}{:0digits$}{suffix}", *written, digits = *digits);
                write_png(Path::new(&path), frame)?;
                *written += 1;
                Ok(())
            }
            FrameSink::Video { path, encoder, .. } => {
                let encoder = encoder.as_mut().with_context(|| format!("{} is already finished", path.display()))?;
                encoder.push_opaque_frame(frame.pixels.clone()).with_context(|| format!("encoding {}", path.display()))
            }
        }
    }

    /// Flushes and closes the output.
    pub fn finish(self) -> anyhow::Result<Written> {
        match self {
            FrameSink::Still { path, last } => {
                let frame = last.context("no frame was rendered")?;
                write_png(&path, &frame)?;
                Ok(Written { description: format!("{} (the last frame, {}x{})", path.display(), frame.width, frame.height) })
            }
            FrameSink::Sequence { prefix, width, suffix, written } => {
                let first = format!("{prefix}{:0width$}{suffix}", 0);
                Ok(Written { description: format!("{written} PNG frames from {first}") })
            }
            FrameSink::Video { path, encoder, .. } => {
                let encoder = encoder.context("the encoder was already finished")?;
                let summary = encoder.finish().with_context(|| format!("finishing {}", path.display()))?;
                Ok(Written { description: format!("{} ({} frames, {} KiB)", path.display(), summary.frames_written, summary.file_size_bytes / 1024) })
            }
        }
    }
}

fn write_png(path: &Path, frame: &Frame) -> anyhow::Result<()> {
    image::save_buffer(path, &frame.pixels, frame.width, frame.height, image::ExtendedColorType::Rgba8).with_context(|| format!("cannot write {}", path.display()))
}

/// Splits `frames/%05d.png` into ("frames/", 5, ".png"); `None` without a pattern.
fn parse_pattern(text: &str) -> anyhow::Result<Option<(String, usize, String)>> {
    let Some(start) = text.find('%') else { return Ok(None) };
    let rest = &text[start + 1..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !rest[digits.len()..].starts_with('d') {
        bail!("`{text}`: a frame number pattern is %d or %0Nd, e.g. frames/%05d.png");
    }
    let suffix = &rest[digits.len() + 1..];
    if suffix.contains('%') {
        bail!("`{text}` has more than one % pattern");
    }
    let width = if digits.is_empty() { 0 } else { digits.parse::<usize>().context("pad width")?.min(12) };
    Ok(Some((text[..start].to_string(), width, suffix.to_string())))
}

#[cfg(test)]
mod tests {
    use super::parse_pattern;

    #[test]
    fn sequence_patterns() {
        assert_eq!(parse_pattern("frames/%05d.png").unwrap(), Some(("frames/".into(), 5, ".png".into())));
        assert_eq!(parse_pattern("f%d.png").unwrap(), Some(("f".into(), 0, ".png".into())));
        assert_eq!(parse_pattern("out.png").unwrap(), None);
        assert!(parse_pattern("f%s.png").is_err());
        assert!(parse_pattern("%d/%d.png").is_err());
    }
}
