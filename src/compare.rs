//! Compare stage: joins the source and target entries of one partition by key hash and
//! puts every key in exactly one category: matched, changed, missing in target, extra in
//! target, or duplicate key. Partitions whose fingerprints agree and hold no repeated key
//! are matched wholesale. Counts are exact; only the lists kept for the report are bounded.
//! It never reads rows: the drill-down does that for what this stage lists.

use crate::digest::Entry;

/// A key present exactly once on each side whose rows differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedPair {
    /// Key hash.
    pub key: u128,
    /// Source locator.
    pub source: u64,
    /// Target locator.
    pub target: u64,
}

/// A key present on one side only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OneSided {
    /// Key hash.
    pub key: u128,
    /// Locator on the side that has it.
    pub locator: u64,
}

/// A key that occurs more than once on at least one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DuplicateKey {
    /// Key hash.
    pub key: u128,
    /// Rows with this key on the source and on the target.
    pub rows: [u64; 2],
    /// The first locator on each side that has the key.
    pub locators: [Option<u64>; 2],
}

/// Exact counts of a comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Keys once on each side with equal rows.
    pub matched: u64,
    /// Keys once on each side with different rows.
    pub changed: u64,
    /// Keys only on the source.
    pub missing_in_target: u64,
    /// Keys only on the target.
    pub extra_in_target: u64,
    /// Keys that repeat on at least one side.
    pub keys_with_duplicates: u64,
    /// Distinct keys repeated on each side.
    pub duplicate_keys: [u64; 2],
    /// Rows that carry a repeated key, per side.
    pub duplicate_key_rows: [u64; 2],
    /// Partitions matched by fingerprint alone.
    pub identical_partitions: u64,
}

impl Counts {
    /// Adds another set of counts.
    pub fn add(&mut self, other: &Counts) {
        self.matched += other.matched;
        self.changed += other.changed;
        self.missing_in_target += other.missing_in_target;
        self.extra_in_target += other.extra_in_target;
        self.keys_with_duplicates += other.keys_with_duplicates;
        self.identical_partitions += other.identical_partitions;
        for i in 0..2 {
            self.duplicate_keys[i] += other.duplicate_keys[i];
            self.duplicate_key_rows[i] += other.duplicate_key_rows[i];
        }
    }

    /// Distinct non-NULL keys in the union of both sides.
    pub fn keys_in_union(&self) -> u64 {
        self.matched
            + self.changed
            + self.missing_in_target
            + self.extra_in_target
            + self.keys_with_duplicates
    }
}

/// The items with the smallest keys, at most `limit` of them: a sample that does not
/// depend on thread count or arrival order.
#[derive(Debug, Clone)]
pub struct Smallest<T> {
    items: Vec<T>,
    limit: usize,
}

impl<T: Ord> Smallest<T> {
    /// An empty sample of at most `limit` items.
    pub fn new(limit: usize) -> Self {
        Smallest {
            items: Vec::new(),
            limit,
        }
    }

    /// Offers one item.
    pub fn push(&mut self, item: T) {
        if self.limit == 0 {
            return;
        }
        self.items.push(item);
        if self.items.len() >= self.limit.saturating_mul(2) {
            self.items.select_nth_unstable(self.limit);
            self.items.truncate(self.limit);
        }
    }

    /// Offers all items of another sample.
    pub fn merge(&mut self, other: Smallest<T>) {
        for item in other.items {
            self.push(item);
        }
    }

    /// The sample, smallest first.
    pub fn into_sorted(mut self) -> Vec<T> {
        self.items.sort_unstable();
        self.items.truncate(self.limit);
        self.items
    }
}

/// What comparing some partitions found.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Exact counts.
    pub counts: Counts,
    /// Every changed key (all are drilled into, so per-column counts are exact).
    pub changed: Vec<ChangedPair>,
    /// A bounded sample of keys missing in the target.
    pub missing: Smallest<OneSided>,
    /// A bounded sample of keys extra in the target.
    pub extra: Smallest<OneSided>,
    /// A bounded sample of duplicate keys.
    pub duplicates: Smallest<DuplicateKey>,
}

impl Comparison {
    /// Nothing compared yet; samples keep at most `sample_limit` items each.
    pub fn new(sample_limit: usize) -> Self {
        Comparison {
            counts: Counts::default(),
            changed: Vec::new(),
            missing: Smallest::new(sample_limit),
            extra: Smallest::new(sample_limit),
            duplicates: Smallest::new(sample_limit),
        }
    }

    /// Combines two results; the order of merging does not change the outcome.
    pub fn merge(mut self, other: Comparison) -> Comparison {
        self.counts.add(&other.counts);
        self.changed.extend(other.changed);
        self.missing.merge(other.missing);
        self.extra.merge(other.extra);
        self.duplicates.merge(other.duplicates);
        self
    }

    /// Compares one partition's source entries with its target entries.
    pub fn add_partition(&mut self, mut source: Vec<Entry>, mut target: Vec<Entry>) {
        if fingerprint(&source) == fingerprint(&target) {
            sort(&mut source);
            if source.windows(2).all(|w| w[0].key != w[1].key) {
                self.counts.matched += source.len() as u64;
                self.counts.identical_partitions += 1;
                return;
            }
        } else {
            sort(&mut source);
        }
        sort(&mut target);
        self.join(&source, &target);
    }

    fn join(&mut self, source: &[Entry], target: &[Entry]) {
        let (mut i, mut j) = (0, 0);
        while i < source.len() || j < target.len() {
            let key = match (source.get(i), target.get(j)) {
                (Some(s), Some(t)) => s.key.min(t.key),
                (Some(s), None) => s.key,
                (None, Some(t)) => t.key,
                (None, None) => unreachable!(),
            };
            let s_run = run_length(&source[i..], key);
            let t_run = run_length(&target[j..], key);
            match (s_run, t_run) {
                (1, 1) => {
                    if source[i].row == target[j].row {
                        self.counts.matched += 1;
                    } else {
                        self.counts.changed += 1;
                        self.changed.push(ChangedPair {
                            key,
                            source: source[i].locator,
                            target: target[j].locator,
                        });
                    }
                }
                (1, 0) => {
                    self.counts.missing_in_target += 1;
                    self.missing.push(OneSided {
                        key,
                        locator: source[i].locator,
                    });
                }
                (0, 1) => {
                    self.counts.extra_in_target += 1;
                    self.extra.push(OneSided {
                        key,
                        locator: target[j].locator,
                    });
                }
                (s, t) => {
                    self.counts.keys_with_duplicates += 1;
                    for (side, n) in [s, t].into_iter().enumerate() {
                        if n > 1 {
                            self.counts.duplicate_keys[side] += 1;
                            self.counts.duplicate_key_rows[side] += n as u64;
                        }
                    }
                    self.duplicates.push(DuplicateKey {
                        key,
                        rows: [s as u64, t as u64],
                        locators: [
                            (s > 0).then(|| source[i].locator),
                            (t > 0).then(|| target[j].locator),
                        ],
                    });
                }
            }
            i += s_run;
            j += t_run;
        }
    }
}

/// Sorted by key, then locator, so the first row of a repeated key is the earliest read.
///
/// Keys are uniform hashes, so one counting-sort pass on the bits just below the
/// partition's common prefix leaves only a handful of entries per bucket, and an insertion
/// sort finishes in about linear time; several times faster than a comparison sort.
fn sort(entries: &mut Vec<Entry>) {
    let n = entries.len();
    if n >= 256 {
        let (min, max) = entries.iter().fold((u128::MAX, 0u128), |(lo, hi), e| {
            (lo.min(e.key), hi.max(e.key))
        });
        let prefix = (min ^ max).leading_zeros();
        let bits = (usize::BITS - n.leading_zeros())
            .clamp(1, 16)
            .min(128 - prefix);
        let shift = 128 - prefix - bits;
        let mask = (1usize << bits) - 1;
        let digit = |e: &Entry| ((e.key >> shift) as usize) & mask;
        let mut starts = vec![0usize; mask + 2];
        for e in entries.iter() {
            starts[digit(e) + 1] += 1;
        }
        for d in 0..=mask {
            starts[d + 1] += starts[d];
        }
        let mut sorted = vec![
            Entry {
                key: 0,
                row: 0,
                locator: 0
            };
            n
        ];
        for e in entries.iter() {
            let d = digit(e);
            sorted[starts[d]] = *e;
            starts[d] += 1;
        }
        *entries = sorted;
    }
    insertion_sort(entries);
}

/// Insertion sort by key (stable, so rows of one key keep their order and cost nothing),
/// then each run of a repeated key sorted by locator: linear on nearly sorted input, and
/// never quadratic however many rows share a key.
fn insertion_sort(entries: &mut [Entry]) {
    for i in 1..entries.len() {
        let current = entries[i];
        let mut j = i;
        while j > 0 && entries[j - 1].key > current.key {
            entries[j] = entries[j - 1];
            j -= 1;
        }
        entries[j] = current;
    }
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let run = run_length(rest, first.key);
        let (this, after) = rest.split_at_mut(run);
        if run > 1 {
            this.sort_unstable_by_key(|e| e.locator);
        }
        rest = after;
    }
}

fn run_length(entries: &[Entry], key: u128) -> usize {
    entries.iter().take_while(|e| e.key == key).count()
}

/// Row count and wrapping sum of mixed entry hashes: independent of order, and unlike XOR
/// a repeated row changes it.
fn fingerprint(entries: &[Entry]) -> (usize, u64) {
    let sum = entries
        .iter()
        .fold(0u64, |acc, e| acc.wrapping_add(e.mixed()));
    (entries.len(), sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(key: u128, row: u64, locator: u64) -> Entry {
        Entry { key, row, locator }
    }

    #[test]
    fn every_key_lands_in_one_category() {
        let source = vec![
            e(1, 10, 0),
            e(2, 20, 1),
            e(3, 30, 2),
            e(5, 50, 3),
            e(5, 50, 4),
        ];
        let target = vec![e(4, 40, 9), e(2, 21, 8), e(1, 10, 7), e(5, 50, 6)];
        let mut c = Comparison::new(10);
        c.add_partition(source, target);
        let k = c.counts;
        assert_eq!(
            (k.matched, k.changed, k.missing_in_target, k.extra_in_target),
            (1, 1, 1, 1)
        );
        assert_eq!(k.keys_with_duplicates, 1);
        assert_eq!(k.duplicate_keys, [1, 0]);
        assert_eq!(k.duplicate_key_rows, [2, 0]);
        assert_eq!(k.keys_in_union(), 5);
        assert_eq!(
            c.changed,
            vec![ChangedPair {
                key: 2,
                source: 1,
                target: 8
            }]
        );
        let dups = c.duplicates.into_sorted();
        assert_eq!(dups[0].rows, [2, 1]);
        assert_eq!(dups[0].locators, [Some(3), Some(6)]);
    }

    #[test]
    fn identical_partitions_short_cut_but_duplicates_do_not_hide() {
        let rows = vec![e(1, 1, 0), e(2, 2, 1)];
        let mut c = Comparison::new(10);
        c.add_partition(rows.clone(), rows.into_iter().rev().collect());
        assert_eq!(c.counts.matched, 2);
        assert_eq!(c.counts.identical_partitions, 1);

        // The same duplicated row on both sides: fingerprints agree, yet it is reported.
        let dup = vec![e(7, 1, 0), e(7, 1, 1)];
        let mut c = Comparison::new(10);
        c.add_partition(dup.clone(), dup);
        assert_eq!(c.counts.matched, 0);
        assert_eq!(c.counts.duplicate_keys, [1, 1]);
    }

    #[test]
    fn radix_then_insertion_sort_orders_by_key_then_locator() {
        for n in [0u64, 1, 5, 255, 256, 1000, 5000] {
            let mut entries: Vec<Entry> = (0..n)
                .map(|i| {
                    e(
                        u128::from(i % 97).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
                            >> (i % 3),
                        i,
                        n - i,
                    )
                })
                .collect();
            let mut expected = entries.clone();
            expected.sort_by_key(|e| (e.key, e.locator));
            sort(&mut entries);
            assert_eq!(entries, expected, "n = {n}");
        }
    }

    #[test]
    fn many_rows_of_one_key_sort_in_n_log_n() {
        // Reverse locator order within one key was quadratic in an insertion sort
        // (200k rows of one key took seconds in release, minutes in debug).
        let mut entries: Vec<Entry> = (0..200_000u64).rev().map(|i| e(7, 0, i)).collect();
        sort(&mut entries);
        assert!(entries.windows(2).all(|w| w[0].locator < w[1].locator));
    }

    #[test]
    fn a_duplicated_row_changes_the_fingerprint() {
        let one = vec![e(1, 1, 0), e(2, 2, 1)];
        let two = vec![e(1, 1, 0), e(2, 2, 1), e(2, 2, 1)];
        assert_ne!(fingerprint(&one), fingerprint(&two));
        let mut xor_cancelled = two.clone();
        xor_cancelled.push(e(2, 2, 1));
        assert_ne!(fingerprint(&one).1, fingerprint(&xor_cancelled).1);
    }

    #[test]
    fn samples_keep_the_smallest_keys_whatever_the_order() {
        let mut a = Smallest::new(3);
        let mut b = Smallest::new(3);
        for k in [9u32, 1, 8, 2, 7, 3, 6] {
            a.push(k);
        }
        for k in [3u32, 6, 7, 2, 9, 1, 8] {
            b.push(k);
        }
        assert_eq!(a.into_sorted(), vec![1, 2, 3]);
        assert_eq!(b.into_sorted(), vec![1, 2, 3]);
    }
}
