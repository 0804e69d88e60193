//! What `showrunner live` tells the operator: a status line every few seconds (frame,
//! render time, late/repeated/skipped frames, encoder queue and drops, each output's
//! state and bitrate), output state changes as they happen, and a closing summary
//! (also as JSON for scripts and benchmarks). It must not decide anything about the show.

use std::time::Duration;

use serde::Serialize;
use showrunner_engine::ClockStats;
use showrunner_media::{EncoderStats, OutputStatus};

/// CPU time used so far by the calling thread or by the whole process.
#[derive(Clone, Copy)]
pub enum CpuClock {
    Thread,
    Process,
}

#[cfg(unix)]
pub fn cpu_time(clock: CpuClock) -> Duration {
    let id = match clock {
        CpuClock::Thread => libc::CLOCK_THREAD_CPUTIME_ID,
        CpuClock::Process => libc::CLOCK_PROCESS_CPUTIME_ID,
    };
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the CPU-time clocks need nothing else.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

#[cfg(not(unix))]
pub fn cpu_time(_: CpuClock) -> Duration {
    Duration::ZERO
}

/// Wall time spent making frames (tick, composite, hand-off) since the last status line.
#[derive(Default)]
pub struct FrameTimes {
    count: u32,
    total: Duration,
    max: Duration,
}

impl FrameTimes {
    pub fn add(&mut self, took: Duration) {
        self.count += 1;
        self.total += took;
        self.max = self.max.max(took);
    }

    /// "avg 9.8 ms, max 21.0 ms", then starts over.
    fn take_summary(&mut self) -> String {
        let avg = if self.count == 0 { Duration::ZERO } else { self.total / self.count };
        let line = format!("avg {:.1} ms, max {:.1} ms", ms(avg), ms(self.max));
        *self = FrameTimes::default();
        line
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn clock_label(elapsed: Duration) -> String {
    let s = elapsed.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// One status line.
pub fn status_line(
    elapsed: Duration,
    index: u64,
    times: &mut FrameTimes,
    clock: &ClockStats,
    encoder: &EncoderStats,
    outputs: &[OutputStatus],
) -> String {
    let outputs: Vec<String> = outputs.iter().map(output_label).collect();
    format!(
        "{} frame {index} | render {} | late {}, repeated {}, skipped {} | encoder queue {}, dropped {} | {}",
        clock_label(elapsed),
        times.take_summary(),
        clock.late,
        clock.repeated,
        clock.skipped,
        encoder.queue_depth,
        encoder.frames_dropped,
        if outputs.is_empty() { "no outputs".to_owned() } else { outputs.join(" | ") }
    )
}

fn output_label(o: &OutputStatus) -> String {
    let size = if o.bytes_sent >= 1 << 20 {
        format!("{:.1} MB", o.bytes_sent as f64 / f64::from(1 << 20))
    } else {
        format!("{} kB", o.bytes_sent / 1024)
    };
    let extra = if o.reconnects > 0 { format!(", {} reconnects", o.reconnects) } else { String::new() };
    format!("{}: {} {} kbit/s {size}{extra}", o.id, o.state.name(), o.bitrate_kbps)
}

pub use showrunner_server::show::output_events::output_event_line as event_line;

/// The end-of-show summary, printed and optionally written as JSON.
#[derive(Serialize)]
pub struct LiveSummary {
    pub seconds: f64,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub frames_rendered: u64,
    pub frames_late: u64,
    pub frames_repeated: u64,
    pub frames_skipped: u64,
    pub encoder_frames_dropped: u64,
    pub encoder_frames_encoded: u64,
    /// Wall time from the first frame's deadline to the end minus the pts of the last
    /// frame slot: how far the stream's clock ran from the wall clock.
    pub pts_drift_ms: f64,
    pub render_thread_cpu_ms_per_frame: f64,
    pub process_cpu_ms_per_frame: f64,
    pub module_faults: usize,
    pub cues_fired: u64,
    /// The video bitrate at the end, and how often adaptation changed it.
    pub bitrate_kbps: u32,
    pub bitrate_changes: u64,
    pub outputs: Vec<OutputSummary>,
    pub inputs: Vec<super::live_inputs::InputSummary>,
}

#[derive(Serialize)]
pub struct OutputSummary {
    pub id: String,
    pub target: String,
    pub state: String,
    pub bytes_sent: u64,
    pub reconnects: u32,
    pub tags_dropped: u64,
}

impl From<&OutputStatus> for OutputSummary {
    fn from(o: &OutputStatus) -> OutputSummary {
        OutputSummary {
            id: o.id.clone(),
            target: o.target.clone(),
            state: o.state.name().to_owned(),
            bytes_sent: o.bytes_sent,
            reconnects: o.reconnects,
            tags_dropped: o.tags_dropped,
        }
    }
}

impl LiveSummary {
    pub fn print(&self) {
        eprintln!(
            "live for {:.1} s ({}x{} @ {:.3} fps): {} frames rendered, {} late, {} repeated, {} skipped; encoder dropped {}, \
             bitrate {} kbit/s after {} changes; pts drift {:+.1} ms; CPU per frame: render thread {:.1} ms, whole process {:.1} ms",
            self.seconds,
            self.width,
            self.height,
            self.fps,
            self.frames_rendered,
            self.frames_late,
            self.frames_repeated,
            self.frames_skipped,
            self.encoder_frames_dropped,
            self.bitrate_kbps,
            self.bitrate_changes,
            self.pts_drift_ms,
            self.render_thread_cpu_ms_per_frame,
            self.process_cpu_ms_per_frame
        );
        for o in &self.outputs {
            eprintln!(
                "  output {} ({}): {}, {} bytes, {} reconnects, {} tags dropped",
                o.id, o.target, o.state, o.bytes_sent, o.reconnects, o.tags_dropped
            );
        }
        for i in &self.inputs {
            let size = i.width.zip(i.height).map(|(w, h)| format!(", last {w}x{h}")).unwrap_or_default();
            eprintln!("  input {}: {}, {} frames{size}, {} loops, {} publish sessions", i.name, i.state, i.frames, i.loops, i.sessions);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use showrunner_media::{OutputEvent, OutputState};

    #[test]
    fn clock_labels_count_hours() {
        assert_eq!(clock_label(Duration::from_secs(3725)), "01:02:05");
    }

    #[test]
    fn retrying_outputs_say_why_and_when() {
        let event = OutputEvent::StateChanged {
            id: "main".into(),
            state: OutputState::Retrying { attempt: 2, last_error: "Connection refused".into(), retry_in: Duration::from_secs(1) },
        };
        assert_eq!(event_line(&event, Some("rtmp://h/live/****")), "output main (rtmp://h/live/****): Connection refused; retry 2 in 1s");
    }
}
