"""Runs recon and DuckDB alternately on the same files, checks both against the
generator's truth, and prints a Markdown table of medians, ratios and peak RSS.

usage: compare.py DATA_DIR ROWS [RUNS]   (called by benches/compare.sh)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECON = os.path.join(ROOT, "target", "release", "recon")
FLOOR = os.path.join(ROOT, "target", "release", "examples", "floor")
PYTHON = sys.executable


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS MiB, cpu %, stdout)."""
    with tempfile.NamedTemporaryFile("r") as t:
        out = subprocess.run(["/usr/bin/time", "-f", "%e %M %P", "-o", t.name] + cmd,
                             capture_output=True, text=True)
        if out.returncode not in (0, 1):
            sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stderr}")
        wall, rss_kb, cpu = t.read().split()[-3:]
    return float(wall), int(rss_kb) / 1024, cpu, out.stdout


def check(name, got, truth):
    for field in ("matched", "changed", "missing_in_target", "extra_in_target"):
        if got[field] != truth[field]:
            sys.exit(f"{name}: {field} = {got[field]}, generator says {truth[field]}")
    by_column = {c: n for c, n in got.get("changed_by_column", {}).items() if n}
    if by_column != truth["changed_by_column"]:
        sys.exit(f"{name}: per-column {by_column} != {truth['changed_by_column']}")


def recon_counts(summary_path):
    s = json.load(open(summary_path))
    s["changed_by_column"] = {c["source"]: c["mismatched"] for c in s["columns"]}
    return s


MAPPED_JOB = """# Normalizers and a tolerance on four columns; none changes an equality on this data,
# so the generator's counts still hold.
key = "order_id"
[source]
uri = "source.{fmt}"
[target]
uri = "target.{fmt}"
[[columns]]
source = "customer_name"
normalize = ["trim", "collapse_whitespace"]
[[columns]]
source = "status"
normalize = ["lower"]
[[columns]]
source = "amount"
type = "decimal(12,2)"
tolerance = {{ abs = 0.001 }}
[[columns]]
source = "created_at"
precision = "ms"
"""


def main():
    data, rows = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    truth = json.load(open(os.path.join(data, "truth.json")))
    print(f"\n### {int(rows):,} rows, 0.2% of rows different\n")
    print("| format | tool | wall s (median, min–max) | peak RSS MiB | CPU | ratio DuckDB/recon | recon/floor | correct |")
    print("|---|---|---|---|---|---|---|---|")
    for fmt in ("csv", "parquet"):
        src, tgt = (os.path.join(data, f"source.{fmt}"), os.path.join(data, f"target.{fmt}"))
        for path in (src, tgt):  # warm the page cache
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass
        summary = os.path.join(data, f"recon-{fmt}.json")
        job = os.path.join(data, f"job_mapped_{fmt}.toml")
        with open(job, "w") as f:
            f.write(MAPPED_JOB.format(fmt=fmt))
        results = {"recon": [], "recon mapped": [], "duckdb": [], "floor": []}
        for _ in range(runs):
            w, m, c, _ = timed([RECON, "diff", "--source", src, "--target", tgt, "--key", "order_id",
                                "--json", summary, "--diffs", os.path.join(data, f"diffs-{fmt}.csv"), "-q"])
            results["recon"].append((w, m, c))
            check("recon", recon_counts(summary), truth)
            w, m, c, _ = timed([RECON, "diff", "--config", job, "--json", summary, "-q"])
            results["recon mapped"].append((w, m, c))
            check("recon mapped", recon_counts(summary), truth)
            w, m, c, out = timed([PYTHON, os.path.join(ROOT, "benches", "duckdb_diff.py"), fmt, src, tgt])
            results["duckdb"].append((w, m, c))
            check("duckdb", json.loads(out), truth)
            w, m, c, out = timed([FLOOR, fmt, src, tgt])
            results["floor"].append((w, m, c))
        med = {k: statistics.median(x[0] for x in v) for k, v in results.items()}
        for tool in ("recon", "recon mapped", "duckdb", "floor"):
            walls = [x[0] for x in results[tool]]
            rss = max(x[1] for x in results[tool])
            cpu = results[tool][len(walls) // 2][2]
            ratio = f"{med['duckdb'] / med[tool]:.2f}×" if tool.startswith("recon") else ""
            floor = f"{med[tool] / med['floor']:.2f}×" if tool.startswith("recon") else ""
            if tool == "recon mapped":
                floor += f" (mapping +{(med[tool] / med['recon'] - 1) * 100:.0f}%)"
            correct = "yes" if tool != "floor" else "n/a"
            print(f"| {fmt} | {tool} | {med[tool]:.2f} ({min(walls):.2f}–{max(walls):.2f}) | {rss:.0f} | {cpu} | {ratio} | {floor} | {correct} |")


if __name__ == "__main__":
    main()
