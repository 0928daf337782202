//! Seeded generator of an "orders" dataset pair with known differences, for the fixtures
//! and the benchmark. It writes source and target as CSV and/or Parquet, and `truth.json`
//! with the exact counts recon must report.
//!
//! cargo run --release --example datagen -- --rows 1000000 --out bench-data/1m --format both

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use clap::Parser;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

#[derive(Parser)]
struct Args {
    /// Rows in the source.
    #[arg(long, default_value_t = 1000)]
    rows: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// csv, parquet, both, or legacy (source CSV, target Parquet).
    #[arg(long, default_value = "both")]
    format: String,
    /// Fraction of source rows changed in the target (one column each).
    #[arg(long, default_value_t = 0.001)]
    change_rate: f64,
    /// Fraction of source rows deleted from the target.
    #[arg(long, default_value_t = 0.0005)]
    delete_rate: f64,
    /// Rows inserted into the target, as a fraction of source rows.
    #[arg(long, default_value_t = 0.0005)]
    insert_rate: f64,
    /// Keys given a second row on the source and on the target (each).
    #[arg(long, default_value_t = 0)]
    duplicates: u64,
    /// Source rows with a NULL key.
    #[arg(long, default_value_t = 0)]
    null_keys: u64,
    /// Source CSV rows whose amount is written with a decimal comma (unparseable).
    #[arg(long, default_value_t = 0)]
    glitches: u64,
    /// Add a column only the source has and one only the target has.
    #[arg(long)]
    extra_columns: bool,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = 1 << 20)]
    row_group: usize,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

#[derive(Clone)]
struct Order {
    order_id: Option<i64>,
    customer_id: i64,
    customer_name: String,
    note: Option<String>,
    amount_cents: i128,
    quantity: i32,
    weight_kg: f64,
    status: &'static str,
    created_at_us: i64,
    shipped: Option<bool>,
    ship_date: Option<i32>,
    extra: String,
    /// Written instead of the amount in CSV, to simulate a legacy format glitch.
    amount_glitch: Option<String>,
}

const COLUMNS: [&str; 10] = [
    "customer_id",
    "customer_name",
    "note",
    "amount",
    "quantity",
    "weight_kg",
    "status",
    "created_at",
    "shipped",
    "ship_date",
];
const STATUSES: [&str; 5] = ["new", "paid", "shipped", "delivered", "cancelled"];
const FIRST: [&str; 8] = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana"];
const LAST: [&str; 8] = [
    "Smith",
    "O'Neil",
    "Garcia, Jr.",
    "Lee",
    "\"Big\" Ng",
    "Kowalski",
    "Díaz",
    "Nakamura",
];

fn order(rng: &mut Rng, id: i64) -> Order {
    let note = match rng.below(10) {
        0 => None,
        1 => Some(String::new()),
        2 => Some(format!("call before delivery,\nring twice #{id}")),
        3 => Some("leave at \"back\" door".to_string()),
        _ => Some(format!("note {}", rng.below(1000))),
    };
    let created = 1_700_000_000_000_000
        + rng.below(40_000_000) as i64 * 1_000_000
        + rng.below(1000) as i64 * 1000;
    Order {
        order_id: Some(id),
        customer_id: 1 + rng.below(100_000) as i64,
        customer_name: format!(
            "{} {}",
            FIRST[rng.below(8) as usize],
            LAST[rng.below(8) as usize]
        ),
        note,
        amount_cents: rng.below(10_000_000) as i128 - 50_000,
        quantity: 1 + rng.below(50) as i32,
        weight_kg: rng.below(100_000) as f64 / 64.0,
        status: STATUSES[rng.below(5) as usize],
        created_at_us: created,
        shipped: if rng.below(20) == 0 {
            None
        } else {
            Some(rng.below(2) == 0)
        },
        ship_date: if rng.below(4) == 0 {
            None
        } else {
            Some(19_000 + rng.below(1000) as i32)
        },
        extra: format!("r{}", rng.below(10)),
        amount_glitch: None,
    }
}

/// Changes exactly one column; returns its name.
fn mutate(rng: &mut Rng, o: &mut Order) -> &'static str {
    let column = COLUMNS[rng.below(COLUMNS.len() as u64) as usize];
    match column {
        "customer_id" => o.customer_id += 1,
        "customer_name" => o.customer_name.push_str(" Jr."),
        "note" => {
            o.note = match o.note.take() {
                None => Some(String::new()),
                Some(s) if s.is_empty() => None,
                Some(s) => Some(format!("{s}!")),
            }
        }
        "amount" => o.amount_cents += 1,
        "quantity" => o.quantity += 1,
        "weight_kg" => o.weight_kg += 0.5,
        "status" => {
            let i = STATUSES.iter().position(|s| *s == o.status).unwrap();
            o.status = STATUSES[(i + 1) % STATUSES.len()];
        }
        "created_at" => o.created_at_us += 1_000_000,
        "shipped" => o.shipped = Some(!o.shipped.unwrap_or(false)),
        "ship_date" => o.ship_date = Some(o.ship_date.map_or(19_500, |d| d + 1)),
        _ => unreachable!(),
    }
    column
}

fn csv_field(out: &mut Vec<u8>, value: Option<&str>) {
    if let Some(v) = value {
        if v.is_empty() || v.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(v.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(v.as_bytes());
        }
    }
}

fn decimal_text(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn date_text(days: i32) -> String {
    recon::normalize::canonical::format_date(i64::from(days))
}

fn timestamp_text(us: i64) -> String {
    recon::normalize::canonical::format_timestamp(
        us.div_euclid(1_000_000),
        (us.rem_euclid(1_000_000) * 1000) as u32,
        true,
    )
}

struct Writer {
    csv: Option<BufWriter<File>>,
    parquet: Option<(ArrowWriter<File>, Vec<Order>)>,
    schema: Arc<Schema>,
    extra_name: Option<&'static str>,
    line: Vec<u8>,
}

impl Writer {
    fn new(
        dir: &Path,
        name: &str,
        csv: bool,
        parquet: bool,
        extra_name: Option<&'static str>,
        row_group: usize,
    ) -> Writer {
        let mut fields = vec![Field::new("order_id", DataType::Int64, true)];
        fields.extend([
            Field::new("customer_id", DataType::Int64, false),
            Field::new("customer_name", DataType::Utf8, false),
            Field::new("note", DataType::Utf8, true),
            Field::new("amount", DataType::Decimal128(12, 2), false),
            Field::new("quantity", DataType::Int32, false),
            Field::new("weight_kg", DataType::Float64, false),
            Field::new("status", DataType::Utf8, false),
            Field::new(
                "created_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("shipped", DataType::Boolean, true),
            Field::new("ship_date", DataType::Date32, true),
        ]);
        if let Some(extra) = extra_name {
            fields.push(Field::new(extra, DataType::Utf8, false));
        }
        let schema = Arc::new(Schema::new(fields));
        let csv = csv.then(|| {
            let mut w = BufWriter::with_capacity(
                1 << 20,
                File::create(dir.join(format!("{name}.csv"))).unwrap(),
            );
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            writeln!(w, "{}", names.join(",")).unwrap();
            w
        });
        let parquet = parquet.then(|| {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(row_group))
                .build();
            let file = File::create(dir.join(format!("{name}.parquet"))).unwrap();
            (
                ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap(),
                Vec::new(),
            )
        });
        Writer {
            csv,
            parquet,
            schema,
            extra_name,
            line: Vec::new(),
        }
    }

    fn write(&mut self, o: &Order) {
        if let Some(w) = &mut self.csv {
            let l = &mut self.line;
            l.clear();
            let id = o.order_id.map(|i| i.to_string());
            let fields: [Option<String>; 11] = [
                id,
                Some(o.customer_id.to_string()),
                Some(o.customer_name.clone()),
                o.note.clone(),
                Some(
                    o.amount_glitch
                        .clone()
                        .unwrap_or_else(|| decimal_text(o.amount_cents)),
                ),
                Some(o.quantity.to_string()),
                Some(o.weight_kg.to_string()),
                Some(o.status.to_string()),
                Some(timestamp_text(o.created_at_us)),
                o.shipped.map(|b| b.to_string()),
                o.ship_date.map(date_text),
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    l.push(b',');
                }
                csv_field(l, f.as_deref());
            }
            if self.extra_name.is_some() {
                l.push(b',');
                csv_field(l, Some(&o.extra));
            }
            l.push(b'\n');
            w.write_all(l).unwrap();
        }
        if let Some((_, buffer)) = &mut self.parquet {
            buffer.push(o.clone());
            if buffer.len() >= 65_536 {
                self.flush_parquet();
            }
        }
    }

    fn flush_parquet(&mut self) {
        let Some((writer, buffer)) = &mut self.parquet else {
            return;
        };
        if buffer.is_empty() {
            return;
        }
        let n = buffer.len();
        let mut id = Int64Builder::with_capacity(n);
        let mut cid = Int64Builder::with_capacity(n);
        let mut name = StringBuilder::new();
        let mut note = StringBuilder::new();
        let mut amount = Decimal128Builder::with_capacity(n)
            .with_precision_and_scale(12, 2)
            .unwrap();
        let mut qty = Int32Builder::with_capacity(n);
        let mut weight = Float64Builder::with_capacity(n);
        let mut status = StringBuilder::new();
        let mut created = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
        let mut shipped = BooleanBuilder::with_capacity(n);
        let mut ship_date = Date32Builder::with_capacity(n);
        let mut extra = StringBuilder::new();
        for o in buffer.drain(..) {
            id.append_option(o.order_id);
            cid.append_value(o.customer_id);
            name.append_value(&o.customer_name);
            note.append_option(o.note.as_deref());
            amount.append_value(o.amount_cents);
            qty.append_value(o.quantity);
            weight.append_value(o.weight_kg);
            status.append_value(o.status);
            created.append_value(o.created_at_us);
            shipped.append_option(o.shipped);
            ship_date.append_option(o.ship_date);
            extra.append_value(&o.extra);
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(cid.finish()),
            Arc::new(name.finish()),
            Arc::new(note.finish()),
            Arc::new(amount.finish()),
            Arc::new(qty.finish()),
            Arc::new(weight.finish()),
            Arc::new(status.finish()),
            Arc::new(created.finish()),
            Arc::new(shipped.finish()),
            Arc::new(ship_date.finish()),
        ];
        if self.extra_name.is_some() {
            columns.push(Arc::new(extra.finish()));
        }
        writer
            .write(&RecordBatch::try_new(self.schema.clone(), columns).unwrap())
            .unwrap();
    }

    fn finish(mut self) {
        self.flush_parquet();
        if let Some(mut w) = self.csv.take() {
            w.flush().unwrap();
        }
        if let Some((writer, _)) = self.parquet.take() {
            writer.close().unwrap();
        }
    }
}

fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).unwrap();
    let (source_csv, source_pq, target_csv, target_pq) = match args.format.as_str() {
        "csv" => (true, false, true, false),
        "parquet" => (false, true, false, true),
        "both" => (true, true, true, true),
        "legacy" => (true, false, false, true),
        other => panic!("unknown --format {other}"),
    };
    let extras = |name| args.extra_columns.then_some(name);
    let mut source = Writer::new(
        &args.out,
        "source",
        source_csv,
        source_pq,
        extras("legacy_region"),
        args.row_group,
    );
    let mut target = Writer::new(
        &args.out,
        "target",
        target_csv,
        target_pq,
        extras("etl_loaded_at"),
        args.row_group,
    );
    let mut rng = Rng(args.seed);
    let mut mutations = Rng(args.seed ^ 0xDEAD_BEEF);
    let (mut changed, mut deleted) = (0u64, 0u64);
    let mut by_column = std::collections::BTreeMap::<&str, u64>::new();
    let mut untouched = Vec::new();
    let mut glitches_left = args.glitches;
    let glitch_every = (args.rows / (args.glitches + 1)).max(1) as i64;
    for id in 1..=args.rows as i64 {
        let o = order(&mut rng, id);
        if mutations.chance(args.delete_rate) {
            source.write(&o);
            deleted += 1;
            continue;
        }
        if glitches_left > 0 && id % glitch_every == glitch_every / 2 {
            glitches_left -= 1;
            let mut legacy = o.clone();
            legacy.amount_glitch = Some(decimal_text(o.amount_cents).replace('.', ","));
            source.write(&legacy);
            target.write(&o);
            *by_column.entry("amount").or_default() += 1;
            changed += 1;
            continue;
        }
        source.write(&o);
        if mutations.chance(args.change_rate) {
            let mut t = o.clone();
            *by_column.entry(mutate(&mut mutations, &mut t)).or_default() += 1;
            changed += 1;
            target.write(&t);
        } else {
            if untouched.len() < 10_000 {
                untouched.push(o.clone());
            }
            target.write(&o);
        }
    }
    let inserted = (args.rows as f64 * args.insert_rate).round() as u64;
    for i in 0..inserted {
        let o = order(&mut rng, args.rows as i64 + 1 + i as i64);
        target.write(&o);
    }
    // Duplicates: the k-th untouched key gets a second row on the source, the next one on the target.
    let duplicates = args.duplicates.min(untouched.len() as u64 / 2);
    for k in 0..duplicates as usize {
        source.write(&untouched[2 * k]);
        target.write(&untouched[2 * k + 1]);
    }
    for _ in 0..args.null_keys {
        let mut o = order(&mut rng, 0);
        o.order_id = None;
        source.write(&o);
    }
    source.finish();
    target.finish();
    let source_rows = args.rows + duplicates + args.null_keys;
    let target_rows = args.rows - deleted + inserted + duplicates;
    let keys_with_duplicates = 2 * duplicates;
    let truth = serde_json::json!({
        "rows": {"source": source_rows, "target": target_rows},
        "matched": args.rows - deleted - changed - keys_with_duplicates,
        "changed": changed,
        "missing_in_target": deleted,
        "extra_in_target": inserted,
        "keys_with_duplicates": keys_with_duplicates,
        "duplicate_keys": {"source": duplicates, "target": duplicates},
        "null_keys": {"source": args.null_keys, "target": 0},
        "changed_by_column": by_column,
    });
    std::fs::write(
        args.out.join("truth.json"),
        serde_json::to_string_pretty(&truth).unwrap() + "\n",
    )
    .unwrap();
    println!("{}", serde_json::to_string(&truth).unwrap());
}
