//! The one bounded event queue of showrunner-media, shared by live outputs and live
//! inputs: senders (output and input threads) never block; the owner drains. When the
//! queue is full, new events are dropped and counted, so an owner that stops draining
//! costs a bounded amount of memory. It owns no behaviour beyond queueing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Events kept until drained.
pub const EVENT_CAPACITY: usize = 1024;

/// A cloneable handle to one queue of `T` events.
pub struct EventQueue<T> {
    inner: Arc<Mutex<Queued<T>>>,
}

struct Queued<T> {
    events: VecDeque<T>,
    dropped: u64,
}

impl<T> Clone for EventQueue<T> {
    fn clone(&self) -> Self {
        EventQueue { inner: Arc::clone(&self.inner) }
    }
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue { inner: Arc::new(Mutex::new(Queued { events: VecDeque::new(), dropped: 0 })) }
    }
}

impl<T: std::fmt::Debug> EventQueue<T> {
    pub fn new() -> Self {
        EventQueue::default()
    }

    fn lock(&self) -> MutexGuard<'_, Queued<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `event`, or drops and counts it when [`EVENT_CAPACITY`] are queued.
    pub fn send(&self, event: T) {
        tracing::debug!(?event, "media event");
        let mut queue = self.lock();
        if queue.events.len() >= EVENT_CAPACITY {
            queue.dropped += 1;
        } else {
            queue.events.push_back(event);
        }
    }

    /// Takes every queued event, oldest first.
    pub fn drain(&self) -> Vec<T> {
        self.lock().events.drain(..).collect()
    }

    /// Events dropped because nobody drained the queue.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_keeps_the_oldest_and_counts_the_rest() {
        let queue = EventQueue::new();
        let sender = queue.clone();
        for n in 0..EVENT_CAPACITY + 5 {
            sender.send(n);
        }
        assert_eq!(queue.dropped(), 5);
        let drained = queue.drain();
        assert_eq!((drained.len(), drained[0], drained[EVENT_CAPACITY - 1]), (EVENT_CAPACITY, 0, EVENT_CAPACITY - 1));
        assert!(queue.drain().is_empty());
    }
}
