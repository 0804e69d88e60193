//! `RememberedNames`: a small map from asset name to a value with a hard cap on entries, for
//! the store's missing-name warnings and background-decode failures. Owns only the bounding
//! policy; it must not know what the values mean.

use std::collections::{HashMap, VecDeque};

/// What to do when a new name arrives and the map is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WhenFull {
    /// Keep what is there; the new name is not remembered.
    Refuse,
    /// Forget the oldest name to make room.
    ForgetOldest,
}

#[derive(Debug)]
pub(crate) struct RememberedNames<V> {
    values: HashMap<String, V>,
    oldest_first: VecDeque<String>,
}

impl<V> Default for RememberedNames<V> {
    fn default() -> Self {
        RememberedNames { values: HashMap::new(), oldest_first: VecDeque::new() }
    }
}

impl<V> RememberedNames<V> {
    /// Remembers `name` with `value`. Returns false when `name` was already remembered (its
    /// value is replaced) or when the map is full under [`WhenFull::Refuse`].
    pub(crate) fn remember(&mut self, name: &str, value: V, cap: usize, when_full: WhenFull) -> bool {
        if let Some(existing) = self.values.get_mut(name) {
            *existing = value;
            return false;
        }
        while self.values.len() >= cap {
            if when_full == WhenFull::Refuse {
                return false;
            }
            let Some(oldest) = self.oldest_first.pop_front() else { return false };
            self.values.remove(&oldest);
        }
        self.values.insert(name.to_owned(), value);
        self.oldest_first.push_back(name.to_owned());
        true
    }

    pub(crate) fn forget(&mut self, name: &str) {
        if self.values.remove(name).is_some()
            && let Some(position) = self.oldest_first.iter().position(|remembered| remembered == name)
        {
            self.oldest_first.remove(position);
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&V> {
        self.values.get(name)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{RememberedNames, WhenFull};

    #[test]
    fn refuse_keeps_the_first_names_and_forget_makes_room() {
        let mut names = RememberedNames::default();
        assert!(names.remember("a", (), 2, WhenFull::Refuse));
        assert!(!names.remember("a", (), 2, WhenFull::Refuse));
        assert!(names.remember("b", (), 2, WhenFull::Refuse));
        assert!(!names.remember("c", (), 2, WhenFull::Refuse));
        names.forget("a");
        assert!(names.remember("c", (), 2, WhenFull::Refuse));
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn forget_oldest_evicts_in_insertion_order() {
        let mut names = RememberedNames::default();
        for (index, name) in ["a", "b", "c"].into_iter().enumerate() {
            names.remember(name, index, 2, WhenFull::ForgetOldest);
        }
        assert_eq!(names.get("a"), None);
        assert_eq!(names.get("b"), Some(&1));
        assert_eq!(names.get("c"), Some(&2));
    }
}
