//! Partition stage: buckets entries of one side by the top bits of their key hash, so that
//! each partition of the source meets only the same partition of the target. Entries stay
//! in memory up to a budget and spill to one temporary file past it. It does not compare.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::digest::{ENTRY_BYTES, Entry};
use crate::error::{Error, Result};

/// Entries per in-memory chunk; fixed-size chunks avoid the up-to-2x slack of a growing Vec.
const CHUNK: usize = 1024;

/// The number of partitions to use for about `rows` rows per side: a power of two that
/// puts some tens of thousands of entries (about 1 MiB) in each, within [16, 65536].
/// Larger partitions mean fewer, longer appends while scanning; the join's sort of one
/// partition still fits in cache.
pub fn partitions_for(rows: u64) -> usize {
    let wanted = (rows / 32_768).max(1);
    (wanted.next_power_of_two() as usize).clamp(16, 1 << 16)
}

/// Reusable buffers for [`PartitionedDigests::insert`].
#[derive(Debug, Default)]
pub struct Scatter {
    starts: Vec<usize>,
    next: Vec<usize>,
    grouped: Vec<Entry>,
}

/// The digests of one side, bucketed by key hash.
pub struct PartitionedDigests {
    bits: u32,
    parts: Vec<Mutex<Part>>,
    in_memory: AtomicUsize,
    budget: usize,
    spill_dir: PathBuf,
    spill: Mutex<Option<SpillFile>>,
    spilled_bytes: AtomicU64,
}

#[derive(Default)]
struct Part {
    chunks: Vec<Vec<Entry>>,
    /// (byte offset, entry count) of each spilled run of this partition.
    runs: Vec<(u64, usize)>,
}

struct SpillFile {
    file: File,
    end: u64,
}

impl PartitionedDigests {
    /// An empty store of `partitions` (a power of two) buckets that keeps at most about
    /// `budget` bytes of entries in memory.
    pub fn new(partitions: usize, budget: usize, spill_dir: &Path) -> Self {
        assert!(partitions.is_power_of_two());
        PartitionedDigests {
            bits: partitions.trailing_zeros(),
            parts: (0..partitions)
                .map(|_| Mutex::new(Part::default()))
                .collect(),
            in_memory: AtomicUsize::new(0),
            budget,
            spill_dir: spill_dir.to_path_buf(),
            spill: Mutex::new(None),
            spilled_bytes: AtomicU64::new(0),
        }
    }

    /// The number of partitions.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether there are no partitions (never: at least one exists).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The partition an entry with key hash `key` belongs to.
    #[inline]
    pub fn partition_of(&self, key: u128) -> usize {
        if self.bits == 0 {
            0
        } else {
            (key >> (128 - self.bits)) as usize
        }
    }

    /// Bytes written to the spill file so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled_bytes.load(Ordering::Relaxed)
    }

    /// Adds entries, grouping them by partition through `scratch` (a counting sort, so
    /// each partition's lock is taken once per call), and spills if over budget.
    pub fn insert(&self, entries: &[Entry], scratch: &mut Scatter) -> Result<()> {
        // Count the bytes before they become visible to a concurrent spill, which
        // subtracts what it drains: the counter never drops below what is in memory.
        let bytes = entries.len() * ENTRY_BYTES;
        let total = self.in_memory.fetch_add(bytes, Ordering::AcqRel) + bytes;
        let parts = self.parts.len();
        scratch.starts.clear();
        scratch.starts.resize(parts + 1, 0);
        for e in entries {
            scratch.starts[self.partition_of(e.key) + 1] += 1;
        }
        for p in 0..parts {
            scratch.starts[p + 1] += scratch.starts[p];
        }
        scratch.grouped.clear();
        scratch.grouped.resize(
            entries.len(),
            Entry {
                key: 0,
                row: 0,
                locator: 0,
            },
        );
        scratch.next.clear();
        scratch.next.extend_from_slice(&scratch.starts[..parts]);
        for e in entries {
            let p = self.partition_of(e.key);
            scratch.grouped[scratch.next[p]] = *e;
            scratch.next[p] += 1;
        }
        for p in 0..parts {
            let (from, to) = (scratch.starts[p], scratch.starts[p + 1]);
            if from == to {
                continue;
            }
            let mut part = self.parts[p].lock().expect("partition lock");
            let mut these = &scratch.grouped[from..to];
            while !these.is_empty() {
                let need_chunk = part.chunks.last().is_none_or(|c| c.len() == CHUNK);
                if need_chunk {
                    part.chunks.push(Vec::with_capacity(CHUNK));
                }
                let chunk = part.chunks.last_mut().expect("a chunk");
                let take = (CHUNK - chunk.len()).min(these.len());
                chunk.extend_from_slice(&these[..take]);
                these = &these[take..];
            }
        }
        if total > self.budget {
            self.spill_all()?;
        }
        Ok(())
    }

    /// Writes every in-memory chunk to the spill file.
    fn spill_all(&self) -> Result<()> {
        let mut guard = self.spill.lock().expect("spill lock");
        if self.in_memory.load(Ordering::Relaxed) <= self.budget {
            return Ok(()); // another thread spilled while we waited
        }
        let spill_error = |source| Error::Spill {
            dir: self.spill_dir.clone(),
            source,
        };
        if guard.is_none() {
            let file = tempfile::tempfile_in(&self.spill_dir).map_err(spill_error)?;
            *guard = Some(SpillFile { file, end: 0 });
        }
        let spill = guard.as_mut().expect("spill file");
        let mut bytes = Vec::new();
        for part in &self.parts {
            let mut part = part.lock().expect("partition lock");
            let count: usize = part.chunks.iter().map(Vec::len).sum();
            if count == 0 {
                continue;
            }
            bytes.clear();
            for entry in part.chunks.drain(..).flatten() {
                entry.write_to(&mut bytes);
            }
            spill
                .file
                .write_all_at(&bytes, spill.end)
                .map_err(spill_error)?;
            part.runs.push((spill.end, count));
            spill.end += bytes.len() as u64;
            self.in_memory.fetch_sub(bytes.len(), Ordering::AcqRel);
            self.spilled_bytes
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Removes and returns all entries of partition `p`, from memory and the spill file.
    pub fn take(&self, p: usize) -> Result<Vec<Entry>> {
        let mut part = self.parts[p].lock().expect("partition lock");
        let chunks = std::mem::take(&mut part.chunks);
        let runs = std::mem::take(&mut part.runs);
        drop(part);
        let in_memory: usize = chunks.iter().map(Vec::len).sum();
        let spilled: usize = runs.iter().map(|r| r.1).sum();
        let mut entries = Vec::with_capacity(in_memory + spilled);
        if !runs.is_empty() {
            let guard = self.spill.lock().expect("spill lock");
            let spill = guard
                .as_ref()
                .ok_or_else(|| Error::Internal("spilled runs without a spill file".into()))?;
            let mut bytes = Vec::new();
            for (offset, count) in runs {
                bytes.resize(count * ENTRY_BYTES, 0);
                spill
                    .file
                    .read_exact_at(&mut bytes, offset)
                    .map_err(|source| Error::Spill {
                        dir: self.spill_dir.clone(),
                        source,
                    })?;
                entries.extend(
                    bytes
                        .chunks_exact(ENTRY_BYTES)
                        .map(|b| Entry::read_from(b.try_into().expect("32 bytes"))),
                );
            }
        }
        for chunk in chunks {
            entries.extend_from_slice(&chunk);
        }
        self.in_memory
            .fetch_sub(in_memory * ENTRY_BYTES, Ordering::AcqRel);
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u64) -> Vec<Entry> {
        (0..n)
            .map(|i| Entry {
                key: u128::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
                row: i,
                locator: i,
            })
            .collect()
    }

    fn collect(store: &PartitionedDigests) -> Vec<Entry> {
        let mut all = Vec::new();
        for p in 0..store.len() {
            let part = store.take(p).unwrap();
            assert!(part.iter().all(|e| store.partition_of(e.key) == p));
            all.extend(part);
        }
        all.sort_by_key(|e| e.locator);
        all
    }

    #[test]
    fn every_entry_comes_back_once_from_memory() {
        let dir = tempfile::tempdir().unwrap();
        let store = PartitionedDigests::new(64, usize::MAX, dir.path());
        let input = entries(10_000);
        let mut scatter = Scatter::default();
        store.insert(&input[..6000], &mut scatter).unwrap();
        store.insert(&input[6000..], &mut scatter).unwrap();
        assert_eq!(collect(&store), entries(10_000));
        assert_eq!(store.spilled_bytes(), 0);
    }

    #[test]
    fn spilling_loses_and_duplicates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = PartitionedDigests::new(16, 4096, dir.path());
        let input = entries(10_000);
        let mut scatter = Scatter::default();
        for chunk in input.chunks(700) {
            store.insert(chunk, &mut scatter).unwrap();
        }
        assert!(store.spilled_bytes() > 0);
        assert_eq!(collect(&store), entries(10_000));
    }

    #[test]
    fn partition_count_is_a_bounded_power_of_two() {
        assert_eq!(partitions_for(0), 16);
        assert_eq!(partitions_for(10_000_000), 512);
        assert_eq!(partitions_for(u64::MAX), 1 << 16);
    }
}
