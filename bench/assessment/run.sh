#!/usr/bin/env bash
# The assessment bench: a province's year (5,000 departments, 200,000 people, 20 million ledger
# events) generated once, folded and scored by core (full recompute, one new event made current,
# one breakdown, peak memory), and the same department totals computed by DuckDB on the same
# events as Parquet, checked equal. See bench/README.md.
set -euo pipefail

usage() {
    echo "usage: bash bench/assessment/run.sh [--events N] [--departments N] [--people N] [--data DIR] [--keep]"
    echo "  --data DIR   where the generated year goes (default: a temporary folder, removed unless --keep)"
}

events=20000000 departments=5000 people=200000 data="" keep=false
while [ $# -gt 0 ]; do
    case "$1" in
        --events) events=$2; shift 2 ;;
        --departments) departments=$2; shift 2 ;;
        --people) people=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --keep) keep=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
if [ -z "$data" ]; then
    data=$(mktemp -d /tmp/xn-assessment-XXXXXX)
    [ "$keep" = true ] || trap 'rm -rf "$data"' EXIT
fi
mkdir -p "$root/bench/out"
out="$root/bench/out/assessment-$(date +%F).txt"

python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
(cd "$root" && cargo build --release --locked -p xiaoneng-bench-assessment)
bench="$target/release/assessment-bench"

if [ ! -f "$data/events.bin" ]; then
    echo "== generating $events events for $departments departments and $people people in $data"
    "$bench" gen "$data" --events "$events" --departments "$departments" --people "$people"
fi
{
    echo "== $(date -u +%FT%TZ) $(git -C "$root" rev-parse --short HEAD) on $(nproc) cores"
    echo "-- sha256sum of events.bin (this machine's read ceiling for the same bytes)"
    /usr/bin/time -f "sha256sum_s %e" sha256sum "$data/events.bin" >/dev/null
    echo "-- core"
    /usr/bin/time -f "wall_s %e  max_rss_kb %M" "$bench" run "$data"
    echo "-- duckdb"
    python3 "$root/bench/assessment/duck.py" "$data"
} 2>&1 | tee -a "$out"
