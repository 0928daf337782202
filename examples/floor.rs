//! The benchmark floor: the least work any reconciler must do to read both inputs.
//! CSV: parse both files with the `csv` crate (one reused `ByteRecord`, one thread per
//! file). Parquet: decode every row group of both files (all columns, row groups in
//! parallel). Prints the rows read per file.
//!
//! cargo run --release --example floor -- csv a.csv b.csv

use std::fs::File;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;

fn csv_rows(path: &str) -> u64 {
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 16)
        .from_reader(File::open(path).expect("open CSV"));
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record).expect("valid CSV") {
        rows += 1;
    }
    rows
}

fn parquet_rows(path: &str) -> u64 {
    let groups = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open Parquet"))
        .expect("Parquet footer")
        .metadata()
        .num_row_groups();
    (0..groups)
        .into_par_iter()
        .map(|g| {
            ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open"))
                .expect("footer")
                .with_row_groups(vec![g])
                .with_batch_size(8192)
                .build()
                .expect("reader")
                .map(|b| b.expect("batch").num_rows() as u64)
                .sum::<u64>()
        })
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, a, b] = args.as_slice() else {
        eprintln!("usage: floor csv|parquet FILE FILE");
        std::process::exit(2);
    };
    let read = |path: &String| match kind.as_str() {
        "csv" => csv_rows(path),
        "parquet" => parquet_rows(path),
        other => panic!("unknown kind {other}"),
    };
    let (ra, rb) = rayon::join(|| read(a), || read(b));
    println!("{ra} {rb}");
}
