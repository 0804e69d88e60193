//! The show's picture monitors, programme and preview: JPEGs (640x360 at most,
//! [`MONITOR_FPS`] a second) for the dashboard and `GET /api/v1/monitors/…`.
//!
//! Owns each monitor's JPEG encoder, the scene its pictures show, and how long it is
//! watched. A monitor costs nothing while nobody looks: the frame thread offers it
//! frames only while [`Monitor::watched`] (someone asked within [`WATCH_HOLD`]).
//!
//! Must not: block the frame thread (offering a frame never waits; see
//! [`PreviewEncoder::offer`]) or keep pictures beyond the latest one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use showrunner_media::{PreviewEncoder, PreviewError, PreviewImage, PreviewSettings};

/// Pictures a second on each monitor while it is watched.
pub const MONITOR_FPS: f32 = 10.0;
/// The box monitor pictures fit in.
pub const MONITOR_SIZE: (u32, u32) = (640, 360);
/// How long one look keeps a monitor running.
pub const WATCH_HOLD: Duration = Duration::from_secs(3);

/// Which monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MonitorKind {
    /// What is on air.
    Program,
    /// The scene on preview (the next take), playing.
    Preview,
}

impl MonitorKind {
    pub fn name(self) -> &'static str {
        match self {
            MonitorKind::Program => "program",
            MonitorKind::Preview => "preview",
        }
    }
}

/// One monitor: its encoder, its scene and its watchers' deadline.
pub struct Monitor {
    kind: MonitorKind,
    encoder: PreviewEncoder,
    started: Instant,
    /// Milliseconds after `started` until which the monitor is watched.
    watched_until_ms: AtomicU64,
    /// The scene the monitor shows (`None`: nothing to show, e.g. no preview scene).
    scene: Mutex<Option<String>>,
}

impl Monitor {
    pub fn start(kind: MonitorKind) -> Result<Monitor, PreviewError> {
        let settings = PreviewSettings { fps: MONITOR_FPS, max_width: MONITOR_SIZE.0, max_height: MONITOR_SIZE.1, ..PreviewSettings::default() };
        Ok(Monitor { kind, encoder: PreviewEncoder::start(kind.name(), settings)?, started: Instant::now(), watched_until_ms: AtomicU64::new(0), scene: Mutex::new(None) })
    }

    pub fn kind(&self) -> MonitorKind {
        self.kind
    }

    /// Keeps the monitor running for [`WATCH_HOLD`]; says whether it was running already.
    pub fn watch(&self) -> bool {
        let now = self.now_ms();
        let until = now + u64::try_from(WATCH_HOLD.as_millis()).unwrap_or(u64::MAX);
        self.watched_until_ms.fetch_max(until, Ordering::AcqRel) > now
    }

    /// Whether someone looked within [`WATCH_HOLD`].
    pub fn watched(&self) -> bool {
        self.watched_until_ms.load(Ordering::Acquire) > self.now_ms()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The latest picture, if any.
    pub fn latest(&self) -> Option<PreviewImage> {
        self.encoder.latest()
    }

    /// Waits up to `timeout` for a picture newer than `after` (blocking: call it off
    /// the async runtime's threads).
    pub fn wait_newer(&self, after: Option<u64>, timeout: Duration) -> Option<PreviewImage> {
        self.encoder.wait_newer(after, timeout)
    }

    pub fn scene(&self) -> Option<String> {
        self.scene.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(super) fn set_scene(&self, scene: Option<&str>) {
        let mut current = self.scene.lock().unwrap_or_else(PoisonError::into_inner);
        if current.as_deref() != scene {
            *current = scene.map(str::to_string);
        }
    }

    /// Offers a composited frame (opaque RGBx); dropped unless watched and due.
    pub(super) fn offer(&self, pixels: &Bytes, width: u32, height: u32, index: u64, pts: Duration) {
        if self.watched() {
            self.encoder.offer(pixels, width, height, true, index, pts);
        }
    }
}

/// Both monitors; cheap to clone.
#[derive(Clone)]
pub struct Monitors {
    pub program: Arc<Monitor>,
    pub preview: Arc<Monitor>,
}

impl Monitors {
    pub fn start() -> Result<Monitors, PreviewError> {
        Ok(Monitors { program: Arc::new(Monitor::start(MonitorKind::Program)?), preview: Arc::new(Monitor::start(MonitorKind::Preview)?) })
    }

    pub fn get(&self, kind: MonitorKind) -> &Arc<Monitor> {
        match kind {
            MonitorKind::Program => &self.program,
            MonitorKind::Preview => &self.preview,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_monitor_takes_frames_only_while_watched() {
        let monitor = Monitor::start(MonitorKind::Program).unwrap();
        let pixels = Bytes::from(vec![200u8; 64 * 36 * 4]);
        monitor.offer(&pixels, 64, 36, 0, Duration::ZERO);
        assert!(monitor.wait_newer(None, Duration::from_millis(300)).is_none(), "an unwatched monitor encodes nothing");
        assert!(!monitor.watch(), "the first look finds it idle");
        assert!(monitor.watch(), "a second look finds it running");
        monitor.offer(&pixels, 64, 36, 1, Duration::from_millis(100));
        let image = monitor.wait_newer(None, Duration::from_secs(5)).unwrap();
        assert_eq!((image.frame_index, image.width, image.height), (1, 64, 36));
    }
}
