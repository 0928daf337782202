#!/usr/bin/env bash
# PostgreSQL case of the comparison: the generated orders (benches/compare.sh's data)
# loaded into two tables, then recon PostgreSQL↔PostgreSQL and PostgreSQL↔Parquet next to
# the floor: COPY … TO STDOUT of both tables to /dev/null with psql, both at once.
#
#   PG_URL=postgres://postgres@127.0.0.1:5432/test ROWS=10000000 benches/postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
ROWS="${ROWS:-10000000}"
RUNS="${RUNS:-3}"
DIR="bench-data/$ROWS"
[ -f "$DIR/truth.json" ] || ROWS="$ROWS" RUNS=0 benches/compare.sh >/dev/null
cargo build --release --bin recon

columns="order_id bigint primary key, customer_id bigint, customer_name text, note text, amount numeric(12,2), quantity int, weight_kg double precision, status text, created_at timestamptz, shipped boolean, ship_date date"
if [ "$(psql -X -A -t -d "$PG_URL" -c "select count(*) from information_schema.tables where table_schema = 'bench' and table_name = 'source_$ROWS'")" != "1" ]; then
  echo "loading $ROWS rows per side into PostgreSQL (once)"
  psql -X -q -d "$PG_URL" -c "create schema if not exists bench"
  for side in source target; do
    psql -X -q -d "$PG_URL" -c "drop table if exists bench.${side}_$ROWS; create unlogged table bench.${side}_$ROWS ($columns)"
    psql -X -q -d "$PG_URL" -c "\\copy bench.${side}_$ROWS from '$DIR/$side.csv' with (format csv, header)"
    psql -X -q -d "$PG_URL" -c "vacuum analyze bench.${side}_$ROWS"
  done
fi

src="$PG_URL?table=bench.source_$ROWS"
tgt="$PG_URL?table=bench.target_$ROWS"
echo "machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $(psql -X -A -t -d "$PG_URL" -c 'select version()' | cut -d, -f1)"
printf "| case | run | wall s | peak RSS MiB | matched/changed/missing/extra |\n|---|---|---|---|---|\n"
# data-diff (pip install psycopg2-binary "data-diff==0.11.2" "dbt-core>=1.7,<1.8"
# "pydantic>=1.10.12,<2" into a venv; DATA_DIFF=path/to/data-diff): its hashdiff, once.
if [ -n "${DATA_DIFF:-}" ]; then
  dd_url="${DD_URL:-postgresql://postgres:unused@127.0.0.1:5432/test}"   # data-diff needs a password field
  cols="-c customer_id -c customer_name -c note -c amount -c quantity -c weight_kg -c status -c created_at -c shipped -c ship_date"
  /usr/bin/time -f "%e %M" -o /tmp/recon-dd.time "$DATA_DIFF" "$dd_url" "bench.source_$ROWS" "$dd_url" "bench.target_$ROWS" \
    -k order_id $cols --algorithm hashdiff -j 2 > /tmp/recon-dd.out
  read -r wall rss < /tmp/recon-dd.time
  echo "| data-diff hashdiff | 1 | $wall | $((rss / 1024)) | rows only in source or changed: $(grep -c '^- ' /tmp/recon-dd.out), only in target or changed: $(grep -c '^+ ' /tmp/recon-dd.out) |"
fi
for run in $(seq 1 "$RUNS"); do
  /usr/bin/time -f "%e %M" -o /tmp/recon-floor.time bash -c "psql -X -q -d '$PG_URL' -c 'copy bench.source_$ROWS to stdout' >/dev/null & psql -X -q -d '$PG_URL' -c 'copy bench.target_$ROWS to stdout' >/dev/null; wait"
  read -r wall rss < /tmp/recon-floor.time
  echo "| floor: psql COPY of both tables | $run | $wall | $((rss / 1024)) | n/a |"
  for case in "pg-pg:$tgt" "pg-parquet:$DIR/target.parquet"; do
    name="${case%%:*}"; target="${case#*:}"
    /usr/bin/time -f "%e %M" -o /tmp/recon-pg.time target/release/recon diff --source "$src" --target "$target" \
      --key order_id --pg-connections 2 -q --json /tmp/recon-pg.json || true
    read -r wall rss < /tmp/recon-pg.time
    counts=$(python3 -c "import json; s=json.load(open('/tmp/recon-pg.json')); t=json.load(open('$DIR/truth.json')); c=[s[k] for k in ('matched','changed','missing_in_target','extra_in_target')]; ok=c==[t[k] for k in ('matched','changed','missing_in_target','extra_in_target')]; print('/'.join(map(str,c)), 'correct' if ok else 'WRONG')")
    echo "| recon $name | $run | $wall | $((rss / 1024)) | $counts |"
  done
done
