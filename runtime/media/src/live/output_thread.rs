//! The thread each live output runs on, with the flag that asks it to stop: stopping
//! sets the flag and joins (the output ends its stream cleanly first), and so does
//! dropping it. It must not know what the output does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crate::MediaError;

pub(crate) struct OutputThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    name: String,
}

impl OutputThread {
    /// Runs `body` on a thread named `name` (cut to the 15 bytes Linux keeps); `body`
    /// watches the flag it is given and returns when it is set.
    pub(crate) fn spawn(name: String, body: impl FnOnce(&AtomicBool) + Send + 'static) -> Result<OutputThread, MediaError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(name.chars().take(15).collect())
            .spawn(move || body(&flag))
            .map_err(|e| MediaError::Io { action: "start the thread of output", path: name.clone().into(), source: e })?;
        Ok(OutputThread { stop, thread: Some(thread), name })
    }

    /// Asks the output to end its stream and waits for it.
    pub(crate) fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!(output = %self.name, "an output thread panicked");
        }
    }
}

impl Drop for OutputThread {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
