//! A bounded, least-recently-used-ish map from a 64-bit hash to a value.
//!
//! Owns the eviction policy for the layout and measure caches. Callers store the full key
//! inside the value and compare it on a hit (a hash collision is then a miss). It must not
//! grow past its entry or weight limits, whatever the caller inserts.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Hashes any key with a fixed-key hasher (the same value on every run).
pub fn hash_key<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

struct Slot<V> {
    value: V,
    last_used: u64,
    weight: usize,
}

/// Map bounded by entry count and by total weight (e.g. glyph count). When an insert would
/// cross a bound, the older half of the entries is dropped.
pub struct BoundedCache<V> {
    slots: HashMap<u64, Slot<V>>,
    max_entries: usize,
    max_weight: usize,
    total_weight: usize,
    clock: u64,
}

impl<V> BoundedCache<V> {
    pub fn new(max_entries: usize, max_weight: usize) -> Self {
        BoundedCache {
            slots: HashMap::new(),
            max_entries: max_entries.max(1),
            max_weight: max_weight.max(1),
            total_weight: 0,
            clock: 0,
        }
    }

    /// The value stored under `hash`, marked as just used.
    pub fn get(&mut self, hash: u64) -> Option<&V> {
        self.clock += 1;
        let now = self.clock;
        self.slots.get_mut(&hash).map(|slot| {
            slot.last_used = now;
            &slot.value
        })
    }

    /// Stores `value`; an entry heavier than the whole budget is not stored.
    pub fn insert(&mut self, hash: u64, value: V, weight: usize) {
        if weight > self.max_weight {
            return;
        }
        if let Some(old) = self.slots.remove(&hash) {
            self.total_weight -= old.weight;
        }
        if self.slots.len() >= self.max_entries || self.total_weight + weight > self.max_weight {
            self.evict_older_half();
        }
        while self.total_weight + weight > self.max_weight && !self.slots.is_empty() {
            self.evict_older_half();
        }
        self.clock += 1;
        self.total_weight += weight;
        self.slots.insert(
            hash,
            Slot {
                value,
                last_used: self.clock,
                weight,
            },
        );
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.total_weight = 0;
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Drops the entries used least recently: every entry at or below the median stamp.
    fn evict_older_half(&mut self) {
        if self.slots.len() <= 1 {
            self.clear();
            return;
        }
        let mut stamps: Vec<u64> = self.slots.values().map(|slot| slot.last_used).collect();
        let middle = stamps.len() / 2;
        let (_, median, _) = stamps.select_nth_unstable(middle);
        let cutoff = *median;
        self.slots.retain(|_, slot| slot.last_used > cutoff);
        self.total_weight = self.slots.values().map(|slot| slot.weight).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_bound_holds_and_recent_entries_survive() {
        let mut cache = BoundedCache::new(8, usize::MAX);
        for key in 0..100u64 {
            cache.insert(key, key, 1);
            assert!(cache.len() <= 8);
        }
        assert_eq!(cache.get(99), Some(&99));
        assert_eq!(cache.get(0), None);
    }

    #[test]
    fn weight_bound_holds_and_oversized_entries_are_refused() {
        let mut cache = BoundedCache::new(1000, 100);
        for key in 0..50u64 {
            cache.insert(key, (), 30);
            assert!(cache.total_weight <= 100);
        }
        cache.insert(1000, (), 101);
        assert!(cache.get(1000).is_none());
    }
}
