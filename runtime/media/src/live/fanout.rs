//! The live encoder's one-to-many hand-off: every FLV tag the muxer emits is offered to
//! each subscriber (an RTMP destination, the recorder) through its own bounded queue.
//! Offering never blocks: a subscriber whose queue is full loses the tag, the loss is
//! counted, and that subscriber skips ahead to the next video keyframe, so a slow or
//! dead destination costs the others and the render nothing and its receiver never sees
//! a broken picture. A new subscriber also starts at a keyframe.
//!
//! It owns the stream headers (FLV header, metadata, codec configuration) that `flvmux`
//! puts in its caps, which a subscriber sends first on every (re)connect. It must not
//! block, allocate per subscriber per tag (buffers are reference-counted), or look
//! inside tags beyond [`TagKind`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use gstreamer as gst;

use super::flv::TagKind;

/// One FLV tag for a subscriber.
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub buffer: gst::Buffer,
}

struct Subscriber {
    id: u64,
    queue: SyncSender<Tag>,
    waiting_for_keyframe: bool,
    counters: Arc<FeedCounters>,
}

/// Tags a subscriber received and lost.
#[derive(Debug, Default)]
pub(crate) struct FeedCounters {
    pub delivered: AtomicU64,
    pub dropped: AtomicU64,
}

/// Asks the video encoder for a keyframe now.
pub(crate) type KeyframeRequest = Arc<dyn Fn() + Send + Sync>;

/// Keyframe requests closer together than this are folded into one.
const KEYFRAME_REQUEST_GAP: Duration = Duration::from_millis(250);

#[derive(Default)]
struct State {
    caps: Option<gst::Caps>,
    subscribers: Vec<Subscriber>,
    next_id: u64,
    ended: bool,
    request_keyframe: Option<KeyframeRequest>,
    last_request: Option<Instant>,
}

/// Hands each muxed tag to every subscriber. Shared by the encoder's appsink callback
/// (producer) and the subscribers.
#[derive(Default)]
pub(crate) struct Fanout {
    state: Mutex<State>,
    caps_ready: Condvar,
}

impl Fanout {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the muxer's caps (with its `streamheader`) when they are new, waking
    /// subscribers waiting for them.
    pub(crate) fn set_caps_once(&self, caps: gst::Caps) {
        let mut state = self.lock();
        if state.caps.as_ref() != Some(&caps) {
            state.caps = Some(caps);
            drop(state);
            self.caps_ready.notify_all();
        }
    }

    /// Waits up to `timeout` for the muxer's caps.
    pub(crate) fn caps(&self, timeout: Duration) -> Option<gst::Caps> {
        let guard = self.lock();
        let (guard, _) = self
            .caps_ready
            .wait_timeout_while(guard, timeout, |s| s.caps.is_none() && !s.ended)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.caps.clone()
    }

    /// How to ask the encoder for a keyframe, so a subscriber that joins or resyncs
    /// starts at once instead of waiting up to a keyframe interval.
    pub(crate) fn set_keyframe_request(&self, request: KeyframeRequest) {
        self.lock().request_keyframe = Some(request);
    }

    /// Calls the keyframe request unless one was made very recently.
    fn request_keyframe(&self) {
        let request = {
            let mut state = self.lock();
            if state.last_request.is_some_and(|t| t.elapsed() < KEYFRAME_REQUEST_GAP) {
                return;
            }
            state.last_request = Some(Instant::now());
            state.request_keyframe.clone()
        };
        if let Some(request) = request {
            request();
        }
    }

    /// Offers one tag to every subscriber without blocking.
    pub(crate) fn publish(&self, buffer: &gst::Buffer) {
        let kind = buffer.map_readable().map_or(TagKind::Other, |map| TagKind::of(map.as_slice()));
        let mut lost_one = false;
        let mut state = self.lock();
        state.subscribers.retain_mut(|sub| {
            if sub.waiting_for_keyframe && !kind.is_keyframe() {
                return true;
            }
            match sub.queue.try_send(Tag { buffer: buffer.clone() }) {
                Ok(()) => {
                    sub.waiting_for_keyframe = false;
                    sub.counters.delivered.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(TrySendError::Full(_)) => {
                    sub.waiting_for_keyframe = true;
                    sub.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    lost_one = true;
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            }
        });
        drop(state);
        if lost_one {
            self.request_keyframe();
        }
    }

    /// The stream ended: every feed sees its end once its queue is drained.
    pub(crate) fn end(&self) {
        let mut state = self.lock();
        state.ended = true;
        state.subscribers.clear();
        drop(state);
        self.caps_ready.notify_all();
    }

    /// A new feed of at most `capacity` queued tags, starting at the next keyframe.
    pub(crate) fn subscribe(self: &Arc<Self>, capacity: usize) -> Feed {
        let (queue, receiver) = sync_channel(capacity.max(1));
        let counters = Arc::new(FeedCounters::default());
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        if !state.ended {
            state.subscribers.push(Subscriber { id, queue, waiting_for_keyframe: true, counters: Arc::clone(&counters) });
        }
        drop(state);
        self.request_keyframe();
        Feed { id, receiver, counters, fanout: Arc::downgrade(self) }
    }

    fn unsubscribe(&self, id: u64) {
        self.lock().subscribers.retain(|s| s.id != id);
    }

    #[cfg(test)]
    fn subscriber_count(&self) -> usize {
        self.lock().subscribers.len()
    }
}

/// What [`Feed::next`] found.
#[derive(Debug)]
pub(crate) enum Next {
    Tag(Tag),
    /// Nothing arrived within the timeout.
    Idle,
    /// The encoder stopped and every queued tag has been read.
    Ended,
}

/// One subscriber's end of the fan-out. Dropping it unsubscribes.
pub(crate) struct Feed {
    id: u64,
    receiver: Receiver<Tag>,
    counters: Arc<FeedCounters>,
    fanout: Weak<Fanout>,
}

impl Feed {
    pub(crate) fn next(&self, timeout: Duration) -> Next {
        match self.receiver.recv_timeout(timeout) {
            Ok(tag) => Next::Tag(tag),
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => Next::Ended,
        }
    }

    /// Discards everything queued (a destination that lost its connection) and waits
    /// for a keyframe again, asking the encoder for one.
    pub(crate) fn resync(&self) {
        while self.receiver.try_recv().is_ok() {}
        if let Some(fanout) = self.fanout.upgrade() {
            if let Some(sub) = fanout.lock().subscribers.iter_mut().find(|s| s.id == self.id) {
                sub.waiting_for_keyframe = true;
            }
            fanout.request_keyframe();
        }
    }

    /// The muxer's caps (stream headers), waiting up to `timeout` for the first tag.
    pub(crate) fn caps(&self, timeout: Duration) -> Option<gst::Caps> {
        self.fanout.upgrade()?.caps(timeout)
    }

    pub(crate) fn counters(&self) -> &Arc<FeedCounters> {
        &self.counters
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Some(fanout) = self.fanout.upgrade() {
            fanout.unsubscribe(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(video: bool, keyframe: bool) -> gst::Buffer {
        let (kind, body) = if video { (9u8, if keyframe { 0x17 } else { 0x27 }) } else { (8u8, 0xAF) };
        gst::Buffer::from_slice(vec![kind, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, body, 0, 0, 0, 0])
    }

    fn received(feed: &Feed) -> Vec<TagKind> {
        let mut kinds = Vec::new();
        while let Next::Tag(tag) = feed.next(Duration::ZERO) {
            kinds.push(TagKind::of(tag.buffer.map_readable().unwrap().as_slice()));
        }
        kinds
    }

    #[test]
    fn a_feed_starts_at_a_keyframe() {
        crate::elements::init().unwrap();
        let fanout = Arc::new(Fanout::default());
        let feed = fanout.subscribe(16);
        for buffer in [tag(false, false), tag(true, false), tag(true, true), tag(false, false), tag(true, false)] {
            fanout.publish(&buffer);
        }
        let key = TagKind::Video { keyframe: true };
        let delta = TagKind::Video { keyframe: false };
        assert_eq!(received(&feed), vec![key, TagKind::Audio, delta]);
    }

    #[test]
    fn a_full_feed_loses_tags_counts_them_and_resumes_at_a_keyframe() {
        crate::elements::init().unwrap();
        let fanout = Arc::new(Fanout::default());
        let slow = fanout.subscribe(2);
        let fast = fanout.subscribe(64);
        fanout.publish(&tag(true, true));
        for _ in 0..5 {
            fanout.publish(&tag(true, false));
        }
        assert_eq!(slow.counters().dropped.load(Ordering::Relaxed), 1, "the first tag past the bound is lost");
        assert_eq!(received(&slow).len(), 2);
        // Room again, but the slow feed waits for a keyframe instead of a broken GOP.
        fanout.publish(&tag(true, false));
        assert!(received(&slow).is_empty());
        fanout.publish(&tag(true, true));
        assert_eq!(received(&slow), vec![TagKind::Video { keyframe: true }]);
        // The fast feed saw everything.
        assert_eq!(received(&fast).len(), 8);
        assert_eq!(fast.counters().dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn joining_and_losing_tags_ask_for_a_keyframe_at_most_every_quarter_second() {
        crate::elements::init().unwrap();
        let fanout = Arc::new(Fanout::default());
        let requests = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = Arc::clone(&requests);
        fanout.set_keyframe_request(Arc::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        }));
        let feed = fanout.subscribe(1);
        assert_eq!(requests.load(Ordering::Relaxed), 1, "a new feed asks for a keyframe");
        fanout.publish(&tag(true, true));
        fanout.publish(&tag(true, false));
        feed.resync();
        assert_eq!(requests.load(Ordering::Relaxed), 1, "requests within 250 ms are folded");
        std::thread::sleep(KEYFRAME_REQUEST_GAP);
        feed.resync();
        assert_eq!(requests.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn dropping_a_feed_unsubscribes_and_end_finishes_the_others() {
        crate::elements::init().unwrap();
        let fanout = Arc::new(Fanout::default());
        let kept = fanout.subscribe(4);
        drop(fanout.subscribe(4));
        assert_eq!(fanout.subscriber_count(), 1);
        fanout.publish(&tag(true, true));
        fanout.end();
        assert!(matches!(kept.next(Duration::ZERO), Next::Tag(_)));
        assert!(matches!(kept.next(Duration::ZERO), Next::Ended));
        assert!(fanout.caps(Duration::from_millis(1)).is_none());
    }
}
