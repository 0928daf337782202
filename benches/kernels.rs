//! Criterion benchmarks of the hot kernels on seeded in-memory data: CSV record parsing,
//! digesting a batch (canonical encoding + xxh3), partition inserts, and the per-partition
//! join. `cargo bench --bench kernels`; end-to-end numbers come from benches/compare.sh.

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use recon::compare::Comparison;
use recon::digest::{Digester, Entry};
use recon::normalize::{ColumnSelection, Plan};
use recon::partition::PartitionedDigests;
use recon::source::Batch;
use recon::source::csv_records::{Record, RecordReader};

const ROWS: usize = 8192;

fn csv_bytes() -> Vec<u8> {
    let mut out = b"id,name,amount,note,ts\n".to_vec();
    for i in 0..50_000u64 {
        out.extend_from_slice(
            format!(
                "{i},\"Name, {i}\",{}.{:02},\"say \"\"hi\"\"\",2024-01-05T10:00:{:02}Z\n",
                i * 7 % 10_000,
                i % 100,
                i % 60
            )
            .as_bytes(),
        );
    }
    out
}

fn batch() -> (Plan, Batch) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Utf8, true),
    ]));
    let typed = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(12, 2), true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..ROWS as i64)),
        Arc::new(StringArray::from_iter_values(
            (0..ROWS).map(|i| format!("customer {i}")),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..ROWS).map(|i| format!("{}.{:02}", i * 7, i % 100)),
        )),
    ];
    let plan = Plan::resolve(
        [&schema, &typed],
        ["a", "b"],
        &ColumnSelection {
            key: vec!["id".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let batch = Batch {
        columns: RecordBatch::try_new(schema, columns).unwrap(),
        locators: (0..ROWS as u64).collect(),
        progress: 0,
    };
    (plan, batch)
}

fn entries(n: u64, salt: u64) -> Vec<Entry> {
    (0..n)
        .map(|i| Entry {
            key: u128::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
            row: i ^ (salt * u64::from(i % 500 == 0)),
            locator: i,
        })
        .collect()
}

fn kernels(c: &mut Criterion) {
    let data = csv_bytes();
    let mut group = c.benchmark_group("csv");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("read_records", |b| {
        b.iter(|| {
            let mut reader = RecordReader::new(data.as_slice(), b',');
            let mut record = Record::default();
            let mut n = 0;
            while reader.read_record(&mut record).unwrap() {
                n += record.len();
            }
            black_box(n)
        })
    });
    group.finish();

    let (plan, batch) = batch();
    let digester = Digester::new(&plan, recon::Side::Source);
    let mut group = c.benchmark_group("digest");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("int_key_text_and_text_as_decimal", |b| {
        let (mut scratch, mut slots, mut out, mut nulls) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        b.iter(|| {
            out.clear();
            let mut unreadable = 0;
            digester.digest(
                &batch,
                &mut scratch,
                &mut slots,
                &mut out,
                &mut nulls,
                &mut unreadable,
            );
            black_box(out.len())
        })
    });
    group.finish();

    let mut group = c.benchmark_group("partition");
    group.throughput(Throughput::Elements(100_000));
    let dir = std::env::temp_dir();
    group.bench_function("insert_100k", |b| {
        b.iter(|| {
            let store = PartitionedDigests::new(64, usize::MAX, &dir);
            let e = entries(100_000, 0);
            store
                .insert(&e, &mut recon::partition::Scatter::default())
                .unwrap();
            black_box(store.len())
        })
    });
    group.bench_function("join_100k_0.2pct_changed", |b| {
        let (source, target) = (entries(100_000, 0), entries(100_000, 1));
        b.iter(|| {
            let mut c = Comparison::new(100);
            c.add_partition(source.clone(), target.clone());
            black_box(c.counts.changed)
        })
    });
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
