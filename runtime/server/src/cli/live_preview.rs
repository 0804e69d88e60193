//! `showrunner live --preview FILE.jpg`: keeps FILE.jpg the latest reduced programme
//! image (640×360 at most, 5 a second), replaced atomically (written beside it, then
//! renamed) so a viewer or a script never reads half a file. Encoding happens on the
//! preview encoder's thread and writing on a thread of its own: the render thread only
//! offers frames. A failed write is logged once and never stops the show.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use showrunner_media::{PreviewEncoder, PreviewSettings, PreviewStats};
use showrunner_render::Frame;

pub struct PreviewFile {
    encoder: Arc<PreviewEncoder>,
    stop: Arc<AtomicBool>,
    writer: Option<JoinHandle<()>>,
}

impl PreviewFile {
    pub fn start(path: &Path) -> anyhow::Result<PreviewFile> {
        if path.extension().and_then(|e| e.to_str()).is_none_or(|e| !e.eq_ignore_ascii_case("jpg") && !e.eq_ignore_ascii_case("jpeg")) {
            anyhow::bail!("--preview writes a JPEG: the file name must end in .jpg ({})", path.display());
        }
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !folder.is_dir() {
            anyhow::bail!("--preview {}: folder {} does not exist", path.display(), folder.display());
        }
        let encoder = Arc::new(PreviewEncoder::start("program", PreviewSettings::default())?);
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, flag, target) = (Arc::clone(&encoder), Arc::clone(&stop), path.to_owned());
        let writer = std::thread::Builder::new()
            .name("preview-file".into())
            .spawn(move || write_images(&shared, &flag, &target))
            .context("cannot start the preview writer thread")?;
        Ok(PreviewFile { encoder, stop, writer: Some(writer) })
    }

    /// Offers an opaque programme frame; returns at once.
    pub fn offer(&self, frame: &Frame, index: u64, pts: Duration) {
        self.encoder.offer(&frame.pixels, frame.width, frame.height, true, index, pts);
    }

    /// Stops the writer; the file keeps the last image.
    pub fn stop(mut self) -> PreviewStats {
        self.stop_writer();
        self.encoder.stats()
    }

    fn stop_writer(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the preview writer thread panicked");
        }
    }
}

impl Drop for PreviewFile {
    fn drop(&mut self) {
        self.stop_writer();
    }
}

fn write_images(encoder: &PreviewEncoder, stop: &AtomicBool, path: &Path) {
    let temporary: PathBuf = path.with_extension("jpg.partial");
    let mut last = None;
    let mut warned = false;
    while !stop.load(Ordering::Relaxed) {
        let Some(image) = encoder.wait_newer(last, Duration::from_millis(200)) else { continue };
        last = Some(image.sequence);
        let written = std::fs::write(&temporary, &image.jpeg).and_then(|()| std::fs::rename(&temporary, path));
        if let Err(e) = written
            && !std::mem::replace(&mut warned, true)
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the preview image; the show goes on");
        }
    }
}
