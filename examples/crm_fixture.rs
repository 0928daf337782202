//! Writes fixtures/crm: a legacy CRM export (CSV) and the new platform's table (Parquet)
//! for the same customers, differing in every format way a migration brings (renamed
//! columns, dollars vs cents, New York local time vs UTC microseconds, re-spelled enums,
//! padded and re-cased text, Y/N vs booleans) plus a known handful of real differences.
//!
//! cargo run --example crm_fixture -- fixtures/crm

use std::fmt::Write as _;
use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{NaiveDate, TimeZone};
use parquet::arrow::ArrowWriter;

const FIRST: [&str; 8] = ["Ann", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana"];
const LAST: [&str; 5] = ["Lee", "Okafor", "Novak", "Díaz", "Smith"];
const STATUS: [(&str, &str); 3] = [("A", "active"), ("S", "suspended"), ("C", "closed")];

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/crm".into());
    std::fs::create_dir_all(&out).unwrap();
    let ny = chrono_tz::America::New_York;
    let mut csv = String::from(
        "cust_id,email,full_name,balance,signup_ts,status,newsletter,legacy_segment\n",
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("email", DataType::Utf8, false),
        Field::new("full_name", DataType::Utf8, false),
        Field::new("balance_cents", DataType::Int64, false),
        Field::new(
            "signed_up_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("state", DataType::Utf8, false),
        Field::new("newsletter", DataType::Boolean, false),
        Field::new(
            "etl_loaded_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]));
    let (mut id, mut email, mut name, mut cents, mut signed, mut state, mut news, mut etl) = (
        Int64Builder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        Int64Builder::new(),
        TimestampMicrosecondBuilder::new().with_timezone("UTC"),
        StringBuilder::new(),
        BooleanBuilder::new(),
        TimestampMicrosecondBuilder::new().with_timezone("UTC"),
    );
    for i in 1..=40i64 {
        let first = FIRST[(i % 8) as usize];
        let last = LAST[(i % 5) as usize];
        let mail = format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase().replace('í', "i"),
            i
        );
        // Legacy: padded and upper-cased emails, names with doubled spaces.
        let legacy_mail = format!("  {}  ", mail.to_uppercase());
        let legacy_name = format!("{first}  {last}");
        let dollars_cents = 1_000 + i * 12_345 % 900_000;
        let day = NaiveDate::from_ymd_opt(2024, 1 + (i % 2) as u32, 1 + (i % 27) as u32).unwrap();
        let local = day
            .and_hms_opt(
                (8 + i % 10) as u32,
                (i * 7 % 60) as u32,
                (i * 13 % 60) as u32,
            )
            .unwrap();
        let utc = ny
            .from_local_datetime(&local)
            .single()
            .unwrap()
            .naive_utc()
            .and_utc();
        let (code, spelled) = STATUS[(i % 3) as usize];
        let opted = i % 4 != 0;

        // A few real differences, and one balance exactly at the tolerance.
        let mut target_mail = mail.clone();
        let mut target_cents = dollars_cents;
        let mut target_state = spelled;
        let mut target_time = utc.timestamp_micros() + (i * 37 % 1000); // sub-millisecond noise
        let mut legacy_balance = format!("{}.{:02}", dollars_cents / 100, dollars_cents % 100);
        match i {
            7 => target_mail = format!("{first}.{last}.new@example.com").to_lowercase(),
            11 => target_cents += 100,
            13 => target_state = "closed",
            17 => target_time += 3_600_000_000,
            19 => legacy_balance = format!("{}.{:02}5", dollars_cents / 100, dollars_cents % 100),
            _ => {}
        }
        if i != 23 {
            // Row 23 never made it to the new platform.
            id.append_value(i);
            email.append_value(&target_mail);
            name.append_value(format!("{first} {last}"));
            cents.append_value(target_cents);
            signed.append_value(target_time);
            state.append_value(target_state);
            news.append_value(opted);
            etl.append_value(1_735_000_000_000_000 + i);
        }
        writeln!(
            csv,
            "{i:05},{legacy_mail},{legacy_name},{legacy_balance},{},{code},{},seg-{}",
            local.format("%Y-%m-%d %H:%M:%S"),
            if opted { "Y" } else { "N" },
            i % 3
        )
        .unwrap();
    }
    // A customer created on the new platform only.
    id.append_value(41);
    email.append_value("new.customer41@example.com");
    name.append_value("New Customer");
    cents.append_value(0);
    signed.append_value(1_735_000_000_000_000);
    state.append_value("active");
    news.append_value(false);
    etl.append_value(1_735_000_000_000_041);
    std::fs::write(format!("{out}/customers_legacy.csv"), csv).unwrap();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(email.finish()),
        Arc::new(name.finish()),
        Arc::new(cents.finish()),
        Arc::new(signed.finish()),
        Arc::new(state.finish()),
        Arc::new(news.finish()),
        Arc::new(etl.finish()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut writer = ArrowWriter::try_new(
        File::create(format!("{out}/customers.parquet")).unwrap(),
        schema,
        None,
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}
