#!/usr/bin/env bash
# Reproducible comparison of recon with DuckDB (FULL OUTER JOIN diff) and with the
# read-only floor, on seeded data at 1M and 10M rows. See benches/README.md.
#
#   benches/compare.sh              # 1M and 10M rows, 3 runs each
#   ROWS="1000000" RUNS=5 benches/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-1000000 10000000}"
RUNS="${RUNS:-3}"
DATA="${DATA:-bench-data}"

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -c "import duckdb" 2>/dev/null || .venv/bin/pip install -q duckdb

cargo build --release --bin recon --example datagen --example floor

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -m); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "duckdb $(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)'), recon $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for rows in $ROWS; do
  dir="$DATA/$rows"
  if [ ! -f "$dir/truth.json" ]; then
    # 0.1% changed + 0.05% deleted + 0.05% inserted = 0.2% of rows different.
    target/release/examples/datagen --rows "$rows" --seed 1 --out "$dir" --format both \
      --change-rate 0.001 --delete-rate 0.0005 --insert-rate 0.0005 >/dev/null
  fi
  ls -l "$dir" | awk 'NR>1{printf "  %s %d MB\n", $9, $5/1e6}'
  .venv/bin/python benches/compare.py "$dir" "$rows" "$RUNS"
done
