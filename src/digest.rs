//! Digest stage: turns each row of a batch into a fixed-width [`Entry`]: a 128-bit hash of
//! the canonical key (distinct keys never merge in practice, even at 10^10 rows: the
//! collision odds are about n²/2^129), a 64-bit hash of the compared values' digest slots
//! (a fixed-width image of the canonical values), and the row's locator. Rows with a NULL
//! key are set aside. It owns the order in which key columns and slots enter the hashes
//! and sets each column's encoder up from its plan pair (mapping, exact numbers held as
//! text); the encodings and slots themselves are `normalize::canonical`'s. It does not
//! store or compare entries.

use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::error::Side;
use crate::normalize::canonical::{Encoded, SLOT, ValueEncoder};
use crate::normalize::{ColumnPair, Plan};
use crate::source::Batch;

/// The digest of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// xxh3-128 of the canonical key encoding.
    pub key: u128,
    /// xxh3-64 of the canonical encoding of the compared columns.
    pub row: u64,
    /// Where to read the row again.
    pub locator: u64,
}

/// Bytes of one serialized entry.
pub const ENTRY_BYTES: usize = 32;

impl Entry {
    /// Writes the entry as 32 little-endian bytes.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.key.to_le_bytes());
        out.extend_from_slice(&self.row.to_le_bytes());
        out.extend_from_slice(&self.locator.to_le_bytes());
    }

    /// Reads an entry written by [`Entry::write_to`].
    pub fn read_from(bytes: &[u8; ENTRY_BYTES]) -> Entry {
        let (key, rest) = bytes.split_at(16);
        let (row, locator) = rest.split_at(8);
        Entry {
            key: u128::from_le_bytes(key.try_into().expect("16 bytes")),
            row: u64::from_le_bytes(row.try_into().expect("8 bytes")),
            locator: u64::from_le_bytes(locator.try_into().expect("8 bytes")),
        }
    }

    /// A well-mixed 64-bit value of key and row together, for partition fingerprints.
    #[inline]
    pub fn mixed(&self) -> u64 {
        let mut bytes = [0u8; 24];
        bytes[..16].copy_from_slice(&self.key.to_le_bytes());
        bytes[16..].copy_from_slice(&self.row.to_le_bytes());
        xxh3_64(&bytes)
    }
}

/// Digests batches of one side according to a plan.
pub struct Digester<'a> {
    plan: &'a Plan,
    side: Side,
    key_positions: Vec<usize>,
    value_positions: Vec<usize>,
}

impl<'a> Digester<'a> {
    /// A digester for batches of `side` projected as the plan says.
    pub fn new(plan: &'a Plan, side: Side) -> Self {
        let positions = |pairs: &[ColumnPair]| {
            pairs
                .iter()
                .map(|p| plan.position(side, p.index(side)))
                .collect()
        };
        Digester {
            plan,
            side,
            key_positions: positions(&plan.keys),
            value_positions: positions(&plan.columns),
        }
    }

    /// Encoders for the key columns of a batch.
    pub fn key_encoders(&self, batch: &arrow_array::RecordBatch) -> Vec<ValueEncoder> {
        self.key_positions
            .iter()
            .zip(&self.plan.keys)
            .map(|(&p, pair)| encoder(batch, p, pair, self.side))
            .collect()
    }

    /// Encoders for the compared columns of a batch.
    pub fn value_encoders(&self, batch: &arrow_array::RecordBatch) -> Vec<ValueEncoder> {
        self.value_positions
            .iter()
            .zip(&self.plan.columns)
            .map(|(&p, pair)| encoder(batch, p, pair, self.side))
            .collect()
    }

    /// Appends one entry per row of `batch` to `entries`; rows with a NULL in any key
    /// column go to `null_keys` (their locators) instead. Rows whose key text does not
    /// read as the key's comparison type are counted in `unparseable_keys` (they keep an
    /// entry: such a key can still match the same text on the other side).
    pub fn digest(
        &self,
        batch: &Batch,
        scratch: &mut Vec<u8>,
        slots: &mut Vec<u8>,
        entries: &mut Vec<Entry>,
        null_keys: &mut Vec<u64>,
        unparseable_keys: &mut u64,
    ) {
        let keys = self.key_encoders(&batch.columns);
        let values = self.value_encoders(&batch.columns);
        // Compared columns go into fixed-width slots, column at a time; then each row's
        // slots are hashed in one call.
        let stride = (values.len() * SLOT).max(1);
        let rows = batch.locators.len();
        slots.clear();
        slots.resize(rows * stride, 0);
        for (c, encoder) in values.iter().enumerate() {
            encoder.fill_slots(slots, stride, c * SLOT);
        }
        entries.reserve(rows);
        'rows: for ((row, &locator), row_slots) in batch
            .locators
            .iter()
            .enumerate()
            .zip(slots.chunks_exact(stride))
        {
            let Some((key, unreadable)) = key_hash(&keys, row, scratch) else {
                null_keys.push(locator);
                continue 'rows;
            };
            *unparseable_keys += u64::from(unreadable);
            entries.push(Entry {
                key,
                row: xxh3_64(row_slots),
                locator,
            });
        }
    }

    /// The side this digester reads.
    pub fn side(&self) -> Side {
        self.side
    }
}

/// The encoder of column `p` of `batch` for `pair` on `side`.
fn encoder(
    batch: &arrow_array::RecordBatch,
    p: usize,
    pair: &ColumnPair,
    side: Side,
) -> ValueEncoder {
    ValueEncoder::new(batch.column(p), pair.compare_as)
        .with_mapping(pair.mapped.as_ref(), side.index())
        .with_exact_text(pair.holds_exact_number_text(side))
}

/// The key hash of `row` as the scan computes it, and whether some key column did not
/// read as its type; `None` when a key column is NULL. `scratch` is reused.
#[inline]
pub fn key_hash(keys: &[ValueEncoder], row: usize, scratch: &mut Vec<u8>) -> Option<(u128, bool)> {
    scratch.clear();
    let mut unreadable = false;
    for encoder in keys {
        match encoder.encode(row, scratch) {
            Encoded::Null => return None,
            Encoded::Unparseable => unreadable = true,
            Encoded::Value => {}
        }
    }
    Some((xxh3_128(scratch), unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_bytes() {
        let e = Entry {
            key: u128::MAX - 7,
            row: 42,
            locator: 1 << 41,
        };
        let mut bytes = Vec::new();
        e.write_to(&mut bytes);
        assert_eq!(bytes.len(), ENTRY_BYTES);
        assert_eq!(Entry::read_from(bytes.as_slice().try_into().unwrap()), e);
    }
}
