//! Maps and sets kept as one sorted vector, in place of `HashMap`/`HashSet`.
//!
//! Why: the tables here are small (stations of a BSS, a bridge's FDB, the
//! ubus requests in flight, the sections of one UCI file: tens to a few
//! thousand entries), and on a router flash is what is scarce. std's hash
//! tables bring hashbrown, SipHash and the random keys (~25 KB of a mips
//! binary, one copy of the table code per key/value type); a sorted vector
//! is a binary search and a `Vec`. Lookups cost O(log n) comparisons of a
//! few bytes (a MAC address, an id), which is what a SipHash of the key
//! costs; inserting or removing moves the tail, O(n) memory moves, which at
//! these sizes and rates (an association, a bridge table refresh) is
//! nothing. The memory is the entries themselves, no control bytes or
//! spare buckets, and the order of iteration is the key order, the same on
//! every run.

use std::borrow::Borrow;

/// A map from `K` to `V`, its entries sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    pub const fn new() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }

    /// The map of `entries` in O(n log n): of equal keys, the last is kept
    /// (as repeated inserts would keep it).
    pub fn from_vec(mut entries: Vec<(K, V)>) -> Self {
        // Stable: equal keys stay in their order.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        // `dedup_by` passes (later, earlier kept): keep the later value.
        entries.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        SortedMap { entries }
    }

    /// Keeps the `n` smallest keys.
    pub fn truncate(&mut self, n: usize) {
        self.entries.truncate(n);
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; the value it had, if any.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted with `make` if it was absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    /// As repeated inserts: a later value for a key replaces an earlier one.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        SortedMap::from_vec(items.into_iter().collect())
    }
}

/// A set of `K`, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedSet<K>(SortedMap<K, ()>);

impl<K> Default for SortedSet<K> {
    fn default() -> Self {
        SortedSet(SortedMap::default())
    }
}

impl<K: Ord> SortedSet<K> {
    pub const fn new() -> Self {
        SortedSet(SortedMap::new())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Adds `key`; false if it was there already.
    pub fn insert(&mut self, key: K) -> bool {
        self.0.insert(key, ()).is_none()
    }

    pub fn contains<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.contains_key(key)
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.remove(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }
}

impl<K: Ord> Extend<K> for SortedSet<K> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, items: I) {
        for k in items {
            self.insert(k);
        }
    }
}

impl<K: Ord> FromIterator<K> for SortedSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(items: I) -> Self {
        let mut set = SortedSet::new();
        set.extend(items);
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn map_basics() {
        let mut m = SortedMap::new();
        assert!(m.is_empty());
        assert_eq!(m.insert(3u32, "c"), None);
        assert_eq!(m.insert(1, "a"), None);
        assert_eq!(m.insert(2, "b"), None);
        assert_eq!(m.insert(2, "B"), Some("b"));
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(&2), Some(&"B"));
        assert_eq!(m.get(&4), None);
        assert!(m.contains_key(&1));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        *m.get_mut(&3).unwrap() = "C";
        assert_eq!(m.values().copied().collect::<Vec<_>>(), ["a", "B", "C"]);
        assert_eq!(m.remove(&1), Some("a"));
        assert_eq!(m.remove(&1), None);
        *m.get_or_insert_with(7, || "g") = "G";
        assert_eq!(*m.get_or_insert_with(7, || "x"), "G");
        m.retain(|k, _| *k != 2);
        assert_eq!(m.iter().collect::<Vec<_>>(), [(&3, &"C"), (&7, &"G")]);
        m.clear();
        assert!(m.is_empty());
    }

    #[test]
    fn borrowed_lookups_and_collect() {
        let m: SortedMap<String, usize> = [
            ("b".to_string(), 1),
            ("a".to_string(), 2),
            ("b".to_string(), 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            m.get("b"),
            Some(&3),
            "the later value wins, as in a HashMap"
        );
        assert_eq!(m.len(), 2);
        let s: SortedSet<String> = ["x", "y", "x"].iter().map(|s| s.to_string()).collect();
        assert_eq!(s.len(), 2);
        assert!(s.contains("x"));
        assert!(!s.contains("z"));
    }

    proptest! {
        /// Collecting gives what repeated inserts give.
        #[test]
        fn collect_is_repeated_inserts(pairs in proptest::collection::vec((0u8..32, any::<u16>()), 0..100)) {
            let collected: SortedMap<u8, u16> = pairs.iter().copied().collect();
            let mut inserted = SortedMap::new();
            let mut model = BTreeMap::new();
            for (k, v) in pairs {
                inserted.insert(k, v);
                model.insert(k, v);
            }
            prop_assert_eq!(&collected, &inserted);
            prop_assert!(collected.iter().eq(model.iter()));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        Upsert(u8),
        Retain(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
            any::<u8>().prop_map(Op::Remove),
            any::<u8>().prop_map(Op::Upsert),
            any::<u8>().prop_map(Op::Retain),
        ]
    }

    proptest! {
        /// Every operation gives what a BTreeMap gives.
        #[test]
        fn behaves_as_a_btreemap(ops in proptest::collection::vec(op(), 0..200)) {
            let mut ours = SortedMap::new();
            let mut model = BTreeMap::new();
            let mut set = SortedSet::new();
            let mut set_model = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        prop_assert_eq!(ours.insert(k, v), model.insert(k, v));
                        prop_assert_eq!(set.insert(k), set_model.insert(k));
                    }
                    Op::Remove(k) => {
                        prop_assert_eq!(ours.remove(&k), model.remove(&k));
                        prop_assert_eq!(set.remove(&k), set_model.remove(&k));
                    }
                    Op::Upsert(k) => {
                        // Wrapping: an Insert may have left u16::MAX there.
                        let v = ours.get_or_insert_with(k, || 0);
                        *v = v.wrapping_add(1);
                        let v = model.entry(k).or_insert(0);
                        *v = v.wrapping_add(1);
                    }
                    Op::Retain(m) => {
                        let m = u16::from(m) | 1;
                        ours.retain(|_, v| *v % m != 0);
                        model.retain(|_, v| *v % m != 0);
                    }
                }
                prop_assert_eq!(ours.len(), model.len());
                let rebuilt: SortedMap<u8, u16> = ours.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(&rebuilt, &ours);
                prop_assert!(ours.iter().eq(model.iter()));
                prop_assert!(set.iter().eq(set_model.iter()));
            }
        }
    }
}
