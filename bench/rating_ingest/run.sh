#!/usr/bin/env bash
# rating_ingest bench: ratings through the public HTTP endpoint (POST
# /api/v1/public/rating-pages/w<window>/ratings), durable — a 2xx means committed — from 64
# concurrent clients (wrk), on SQLite and PostgreSQL. In the same run and with the same client it
# measures GET /healthz (this machine's HTTP ceiling), then, with the server stopped, the raw
# insert rate of the same rows into the same database (64 clients, a row per transaction). Each
# request comes from its own address, as a reverse proxy in front of the server reports it, so the
# per-address rate limit is not what is measured. See bench/README.md.
#
#   bash bench/rating_ingest/run.sh [--backend sqlite|postgres|both] [--duration 20s] [--clients 64]
#
# Only ever sends traffic to 127.0.0.1; the servers, data folders and databases are removed on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BACKENDS=(sqlite postgres)
DURATION=20s
CLIENTS=64
PG_ADMIN_URL=${XIAONENG_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
while [[ $# -gt 0 ]]; do
    case $1 in
    --backend)
        case ${2:-} in
        sqlite | postgres) BACKENDS=("$2") ;;
        both) BACKENDS=(sqlite postgres) ;;
        *) echo "--backend must be sqlite, postgres or both" >&2 && exit 2 ;;
        esac
        shift
        ;;
    --duration) DURATION=${2:?} && shift ;;
    --clients) CLIENTS=${2:?} && shift ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
[[ $DURATION =~ ^[0-9]+s$ && $CLIENTS =~ ^[0-9]+$ ]] || { echo "bad --duration/--clients" >&2; exit 2; }
SECONDS_RUN=${DURATION%s}
for tool in wrk jq curl; do
    command -v "$tool" >/dev/null || { [[ $EUID -eq 0 ]] && apt-get install -y "$tool" >/dev/null; }
done

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${XIAONENG_BIN:-$TARGET_DIR/release/xiaoneng}
[[ -x $BIN ]] || (cd "$ROOT" && cargo build --release -p xiaoneng)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xn-bench-ratings.XXXXXX")
SERVER_PID=""
PG_DB=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -z $SERVER_PID ]] || { kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; }
    [[ -z $PG_DB ]] || psql "$PG_ADMIN_URL" -X -q -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
printf '[log]\nlevel = "warn"\n[server]\ntrust_forwarded_headers = true\njobs = false\n' >"$WORK/xiaoneng.toml"
export XIAONENG_CONFIG=$WORK/xiaoneng.toml

RESULTS=()
one() { # backend
    local backend=$1 dir store=() port base healthz ingest rows raw rss
    dir=$WORK/$backend
    mkdir -p "$dir"
    case $backend in
    sqlite) store=(--data-dir "$dir/data") ;;
    postgres)
        PG_DB=xn_bench_ratings_$$
        psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
        store=(--database-url "${PG_ADMIN_URL%/*}/$PG_DB")
        ;;
    esac
    timeout 900 "$BIN" demo "${store[@]}" >"$dir/demo.log" 2>&1 || { tail "$dir/demo.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base="http://127.0.0.1:$port"
    "$BIN" serve --bind "127.0.0.1:$port" "${store[@]}" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        curl -sf -o /dev/null "$base/healthz" && break
        sleep 0.1
    done
    # The demo's windows, from their public rating pages (no login needed).
    case $backend in
    sqlite) sqlite3 "$dir/data/xiaoneng.db" "SELECT id FROM windows WHERE status = 'active'" >"$dir/windows.txt" ;;
    postgres) psql "${PG_ADMIN_URL%/*}/$PG_DB" -X -At -c "SELECT id FROM windows WHERE status = 'active'" >"$dir/windows.txt" ;;
    esac
    export XN_WINDOWS=$dir/windows.txt
    local before
    before=$(count_ratings "$backend" "$dir")
    healthz=$(wrk -t2 -c"$CLIENTS" -d10s --latency -s "$HERE/healthz.lua" "$base/healthz" | awk '/^RESULT/ {print $2}')
    ingest=$(wrk -t2 -c"$CLIENTS" -d"$DURATION" --latency -s "$HERE/rate.lua" "$base" | awk '/^RESULT/ {print $2, $3, $4, $5, $6, $7}')
    rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status")
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    rows=$(( $(count_ratings "$backend" "$dir") - before ))
    case $backend in
    sqlite) raw=$(python3 "$HERE/raw_sqlite.py" "$dir/data/xiaoneng.db" 10 "$CLIENTS") ;;
    postgres)
        local cols template
        cols=$(psql "${PG_ADMIN_URL%/*}/$PG_DB" -X -At -c "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'ratings' AND column_name <> 'id'")
        template=$(psql "${PG_ADMIN_URL%/*}/$PG_DB" -X -At -c "SELECT max(id) FROM ratings")
        echo "INSERT INTO ratings ($cols) SELECT $cols FROM ratings WHERE id = $template;" >"$dir/insert.sql"
        raw=$(pgbench -n -c "$CLIENTS" -j 2 -T 10 -f "$dir/insert.sql" "${PG_ADMIN_URL%/*}/$PG_DB" 2>/dev/null | awk '/^tps/ {print $3}')
        ;;
    esac
    # rps p50 p99 ok non2xx socket_errors
    read -r rps p50 p99 ok non2xx sockets <<<"$ingest"
    local line
    line=$(printf '%s ratings/s %s p50_ms %s p99_ms %s acknowledged %s stored %s non2xx %s socket_errors %s healthz/s %s raw_inserts/s %s ratio_healthz %.3f ratio_raw %.3f peak_rss_mb %s' \
        "$backend" "$rps" "$p50" "$p99" "$ok" "$rows" "$non2xx" "$sockets" "$healthz" "$raw" \
        "$(echo "$rps / $healthz" | bc -l)" "$(echo "$rps / $raw" | bc -l)" "$rss")
    RESULTS+=("$line")
    echo "$line" >&2
    (( rows >= ok )) || { echo "FAILED: $ok ratings acknowledged but only $rows stored" >&2; exit 1; }
    if [[ -n $PG_DB ]]; then
        psql "$PG_ADMIN_URL" -X -q -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
        PG_DB=""
    fi
}
count_ratings() { # backend dir
    case $1 in
    sqlite) sqlite3 "$2/data/xiaoneng.db" "SELECT count(*) FROM ratings" ;;
    postgres) psql "${PG_ADMIN_URL%/*}/$PG_DB" -X -At -c "SELECT count(*) FROM ratings" ;;
    esac
}
for b in "${BACKENDS[@]}"; do
    one "$b"
done
mkdir -p "$ROOT/bench/out"
{
    echo "# rating_ingest $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') $(date -Is) clients=$CLIENTS duration=$DURATION"
    printf '%s\n' "${RESULTS[@]}"
} | tee "$ROOT/bench/out/rating_ingest-$(date +%Y-%m-%d).txt"
