//! The programme audio of one live input: a bounded, latest-biased queue of decoded
//! audio (S16LE interleaved stereo at [`crate::AUDIO_RATE`]) between the input's
//! decode pipeline, which pushes, and the live encoder, which takes.
//!
//! Neither side ever waits on the other: a push that would hold more than
//! [`AUDIO_FEED_MAX`] drops the oldest samples (counted), and a take returns what is
//! there. The taker only starts once [`AUDIO_FEED_START`] is buffered, and after the
//! queue runs dry it waits for that much again, so a feed that arrives in bursts does
//! not run dry every video frame. When the taker starts (or starts again), only the
//! newest [`AUDIO_FEED_START`] is kept: a backlog that arrived in one burst (a decoder
//! catching up at preroll) is dropped rather than played late. It must not touch
//! GStreamer or know about frames.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::live::AUDIO_RATE;

/// Bytes of one sample frame: two channels of 16-bit samples.
pub const AUDIO_FRAME_BYTES: usize = 4;
/// Most audio a feed holds; older samples are dropped.
pub const AUDIO_FEED_MAX: Duration = Duration::from_millis(500);
/// Audio a feed buffers before the encoder starts taking from it (jitter allowance).
pub const AUDIO_FEED_START: Duration = Duration::from_millis(100);

/// Sample frames in `duration` at [`AUDIO_RATE`].
fn frames_in(duration: Duration) -> usize {
    (duration.as_millis() as usize) * AUDIO_RATE as usize / 1000
}

/// Counters of one feed, all since it was made (in sample frames).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AudioFeedStats {
    /// Sample frames pushed by the input.
    pub received: u64,
    /// Sample frames taken by the encoder.
    pub taken: u64,
    /// Sample frames dropped because the queue was full (nobody took them in time).
    pub dropped: u64,
    /// Times the encoder found the queue empty after it had started taking.
    pub underruns: u64,
    /// Sample frames queued now.
    pub queued: u64,
}

/// A shared handle on one audio queue; clones share it. The input pushes with
/// [`AudioFeed::push`], the encoder takes with [`AudioFeed::take`].
#[derive(Clone, Default)]
pub struct AudioFeed {
    inner: Arc<Mutex<FeedQueue>>,
}

impl std::fmt::Debug for AudioFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioFeed").field("stats", &self.stats()).finish()
    }
}

#[derive(Default)]
struct FeedQueue {
    bytes: VecDeque<u8>,
    /// A trailing partial sample frame of the last push, kept until completed.
    partial: Vec<u8>,
    /// The taker has found [`AUDIO_FEED_START`] buffered and not run dry since.
    flowing: bool,
    stats: AudioFeedStats,
}

impl AudioFeed {
    pub fn new() -> AudioFeed {
        AudioFeed::default()
    }

    fn queue(&self) -> MutexGuard<'_, FeedQueue> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends S16LE interleaved stereo bytes; keeps at most [`AUDIO_FEED_MAX`],
    /// dropping the oldest. Never blocks beyond the queue's lock.
    pub fn push(&self, s16le_stereo: &[u8]) {
        let mut queue = self.queue();
        let queue = &mut *queue;
        let mut incoming = s16le_stereo;
        if !queue.partial.is_empty() {
            let need = AUDIO_FRAME_BYTES - queue.partial.len();
            let (head, rest) = incoming.split_at(need.min(incoming.len()));
            queue.partial.extend_from_slice(head);
            incoming = rest;
            if queue.partial.len() < AUDIO_FRAME_BYTES {
                return;
            }
            queue.bytes.extend(queue.partial.drain(..));
            queue.stats.received += 1;
        }
        let whole = incoming.len() - incoming.len() % AUDIO_FRAME_BYTES;
        let max_bytes = frames_in(AUDIO_FEED_MAX) * AUDIO_FRAME_BYTES;
        // Only the newest `max_bytes` of this push can survive.
        let skipped = whole.saturating_sub(max_bytes);
        queue.bytes.extend(&incoming[skipped..whole]);
        queue.partial.extend_from_slice(&incoming[whole..]);
        queue.stats.received += (whole / AUDIO_FRAME_BYTES) as u64;
        let excess = queue.bytes.len().saturating_sub(max_bytes);
        queue.bytes.drain(..excess);
        queue.stats.dropped += ((skipped + excess) / AUDIO_FRAME_BYTES) as u64;
        queue.stats.queued = (queue.bytes.len() / AUDIO_FRAME_BYTES) as u64;
    }

    /// Appends up to `max_frames` sample frames to `out` and returns how many. Takes
    /// nothing until [`AUDIO_FEED_START`] is buffered, and again after it runs dry.
    pub fn take(&self, max_frames: usize, out: &mut Vec<u8>) -> usize {
        let mut queue = self.queue();
        let available = queue.bytes.len() / AUDIO_FRAME_BYTES;
        if !queue.flowing {
            let start = frames_in(AUDIO_FEED_START);
            if available < start {
                return 0;
            }
            queue.flowing = true;
            queue.bytes.drain(..(available - start) * AUDIO_FRAME_BYTES);
            queue.stats.dropped += (available - start) as u64;
        }
        let available = queue.bytes.len() / AUDIO_FRAME_BYTES;
        let count = available.min(max_frames);
        out.extend(queue.bytes.drain(..count * AUDIO_FRAME_BYTES));
        queue.stats.taken += count as u64;
        if count < max_frames {
            queue.flowing = false;
            queue.stats.underruns += 1;
        }
        queue.stats.queued = (queue.bytes.len() / AUDIO_FRAME_BYTES) as u64;
        count
    }

    /// Forgets what is queued (the input stopped or jumped); counters are kept.
    pub fn clear(&self) {
        let mut queue = self.queue();
        queue.bytes.clear();
        queue.partial.clear();
        queue.flowing = false;
        queue.stats.queued = 0;
    }

    pub fn stats(&self) -> AudioFeedStats {
        self.queue().stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(count: usize, value: u8) -> Vec<u8> {
        vec![value; count * AUDIO_FRAME_BYTES]
    }

    #[test]
    fn nothing_is_taken_until_the_start_level_then_it_flows_until_dry() {
        let feed = AudioFeed::new();
        let start = frames_in(AUDIO_FEED_START);
        let mut out = Vec::new();
        feed.push(&frames(start - 1, 1));
        assert_eq!(feed.take(100, &mut out), 0);
        feed.push(&frames(1, 1));
        assert_eq!(feed.take(100, &mut out), 100);
        assert_eq!(out.len(), 100 * AUDIO_FRAME_BYTES);
        out.clear();
        assert_eq!(feed.take(start, &mut out), start - 100, "a short take returns what is there");
        assert_eq!(feed.stats().underruns, 1);
        feed.push(&frames(10, 2));
        assert_eq!(feed.take(5, &mut Vec::new()), 0, "after running dry it waits for the start level again");
    }

    #[test]
    fn a_backlog_is_cut_to_the_start_level_when_taking_starts() {
        let feed = AudioFeed::new();
        let start = frames_in(AUDIO_FEED_START);
        feed.push(&frames(300, 1));
        feed.push(&frames(start, 2));
        let mut out = Vec::new();
        assert_eq!(feed.take(2 * start, &mut out), start);
        assert!(out.iter().all(|&b| b == 2), "only the newest samples are played");
        assert_eq!(feed.stats().dropped, 300);
    }

    #[test]
    fn the_queue_keeps_only_the_newest_half_second() {
        let feed = AudioFeed::new();
        let max = frames_in(AUDIO_FEED_MAX);
        feed.push(&frames(max, 1));
        feed.push(&frames(10, 2));
        let stats = feed.stats();
        assert_eq!((stats.queued, stats.dropped, stats.received), (max as u64, 10, max as u64 + 10));
        feed.push(&frames(max + 7, 3));
        assert_eq!(feed.stats().queued, max as u64);
        let mut out = Vec::new();
        assert_eq!(feed.take(max, &mut out), frames_in(AUDIO_FEED_START));
        assert!(out.iter().all(|&b| b == 3), "only the newest samples are kept");
    }

    #[test]
    fn partial_sample_frames_are_joined_across_pushes() {
        let feed = AudioFeed::new();
        let start = frames_in(AUDIO_FEED_START);
        let mut bytes = frames(start, 0);
        bytes.extend_from_slice(&[1, 2]);
        feed.push(&bytes);
        feed.push(&[3, 4]);
        assert_eq!(feed.stats().queued, start as u64 + 1);
        let mut out = Vec::new();
        feed.take(start + 1, &mut out);
        assert_eq!(&out[out.len() - 4..], &[1, 2, 3, 4]);
    }
}
