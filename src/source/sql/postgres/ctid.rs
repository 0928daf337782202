//! `ctid`s, PostgreSQL's row addresses (block, offset): the locators of a plain table, and
//! the page ranges a scan is split into, one per connection. Only a plain table's rows
//! have a unique `ctid`; which relations use them is decided in `mod.rs`.

/// Fewer pages than this are read in one split: more connections would cost more than
/// they save.
const PAGES_WORTH_SPLITTING: u32 = 64;

/// Pages `from..to` of a table (`to` open-ended for the last range).
pub(super) type PageRange = (u32, Option<u32>);

/// A `ctid` on the wire (u32 block, u16 offset) as a locator.
pub(super) fn locator(raw: &[u8]) -> Option<u64> {
    let block = u32::from_be_bytes(raw.get(0..4)?.try_into().ok()?);
    let offset = u16::from_be_bytes(raw.get(4..6)?.try_into().ok()?);
    Some((u64::from(block) << 16) | u64::from(offset))
}

/// A locator as `tid` text, `(block,offset)`.
pub(super) fn tid_text(locator: u64) -> String {
    format!("({},{})", locator >> 16, locator & 0xffff)
}

/// A table of `pages` pages cut into one page range per connection (the whole table when
/// it is small or read over one connection).
pub(super) fn page_ranges(pages: u32, connections: u32) -> Vec<PageRange> {
    if pages < PAGES_WORTH_SPLITTING || connections <= 1 {
        return vec![(0, None)];
    }
    let step = pages.div_ceil(connections);
    (0..connections)
        .map(|i| {
            let from = i * step;
            let to = (i + 1 < connections).then_some((i + 1) * step);
            (from, to)
        })
        .collect()
}

/// The conditions that keep a scan within `range`.
pub(super) fn range_conditions((from, to): PageRange) -> Vec<String> {
    let mut conditions = Vec::new();
    if from > 0 {
        conditions.push(format!("ctid >= '({from},0)'::tid"));
    }
    if let Some(to) = to {
        conditions.push(format!("ctid < '({to},0)'::tid"));
    }
    conditions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_round_trip_through_tid_text() {
        let raw = [0, 0, 1, 2, 0, 7];
        let l = locator(&raw).unwrap();
        assert_eq!(tid_text(l), "(258,7)");
        assert_eq!(locator(&raw[..5]), None);
    }

    #[test]
    fn large_tables_split_into_one_range_per_connection() {
        assert_eq!(page_ranges(63, 4), vec![(0, None)]);
        assert_eq!(page_ranges(1000, 1), vec![(0, None)]);
        assert_eq!(
            page_ranges(100, 3),
            vec![(0, Some(34)), (34, Some(68)), (68, None)]
        );
        assert!(range_conditions((0, None)).is_empty());
        assert_eq!(
            range_conditions((34, Some(68))),
            ["ctid >= '(34,0)'::tid", "ctid < '(68,0)'::tid"]
        );
    }
}
