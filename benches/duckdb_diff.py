"""The peer: DuckDB as a diff engine, the way a data engineer would write it.

Each input is read once into a table (CSV with explicit types and
allow_quoted_nulls=false, so a quoted empty string stays an empty string), then one
FULL OUTER JOIN on the key counts matched, changed, missing and extra rows and the
mismatches per column with IS DISTINCT FROM. Prints the counts as JSON.

usage: duckdb_diff.py csv|parquet SOURCE TARGET
"""
import json
import sys

import duckdb

KEY = "order_id"
TYPES = {
    "order_id": "BIGINT",
    "customer_id": "BIGINT",
    "customer_name": "VARCHAR",
    "note": "VARCHAR",
    "amount": "DECIMAL(12,2)",
    "quantity": "INTEGER",
    "weight_kg": "DOUBLE",
    "status": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "shipped": "BOOLEAN",
    "ship_date": "DATE",
}
COLUMNS = [c for c in TYPES if c != KEY]


def read(kind, path):
    if kind == "csv":
        types = ", ".join(f"'{c}': '{t}'" for c, t in TYPES.items())
        return (f"read_csv('{path}', header=true, columns={{{types}}}, "
                f"allow_quoted_nulls=false, quote='\"', escape='\"')")
    return f"read_parquet('{path}')"


def main():
    kind, source, target = sys.argv[1:4]
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"CREATE TABLE s AS SELECT * FROM {read(kind, source)}")
    con.execute(f"CREATE TABLE t AS SELECT * FROM {read(kind, target)}")
    both = f"s.{KEY} IS NOT NULL AND t.{KEY} IS NOT NULL"
    differs = " OR ".join(f"s.{c} IS DISTINCT FROM t.{c}" for c in COLUMNS)
    per_column = ", ".join(
        f"count(*) FILTER (WHERE {both} AND s.{c} IS DISTINCT FROM t.{c})" for c in COLUMNS)
    row = con.execute(f"""
        SELECT
          count(*) FILTER (WHERE {both} AND NOT ({differs})),
          count(*) FILTER (WHERE {both} AND ({differs})),
          count(*) FILTER (WHERE t.{KEY} IS NULL),
          count(*) FILTER (WHERE s.{KEY} IS NULL),
          {per_column}
        FROM s FULL OUTER JOIN t ON s.{KEY} = t.{KEY}
    """).fetchone()
    result = {
        "matched": row[0],
        "changed": row[1],
        "missing_in_target": row[2],
        "extra_in_target": row[3],
        "changed_by_column": {c: n for c, n in zip(COLUMNS, row[4:]) if n},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
