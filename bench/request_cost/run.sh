#!/usr/bin/env bash
# request_cost bench: what an authenticated request costs beside `GET /healthz` (which does no
# work), and what the ledger costs to write and to check, on the demo city, on SQLite and on
# PostgreSQL. Prints one line per backend and route and writes them to
# bench/out/request_cost-<date>.txt. See bench/README.md.
#
#   bash bench/request_cost/run.sh [--build] [--backend sqlite|postgres|both] [--duration 10s]
#                                  [--threads 2] [--connections 32] [--keep]
#
# Only ever sends traffic to 127.0.0.1. Every step is bounded in time; the server, its data folder
# and the PostgreSQL database it made are removed on exit, whatever the exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

BACKENDS=(sqlite postgres)
DURATION=10s
THREADS=2
CONNECTIONS=32
BUILD=false
KEEP=false
PG_ADMIN_URL=${XIAONENG_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BENCH_USER=bench_admin
ROUTES=(/healthz /api/v1/me /api/v1/orders /api/v1/bulletins /api/v1/inbox "/api/v1/events?limit=100")

while [[ $# -gt 0 ]]; do
    case $1 in
    --build) BUILD=true ;;
    --backend)
        case ${2:-} in
        sqlite | postgres) BACKENDS=("$2") ;;
        both) BACKENDS=(sqlite postgres) ;;
        *) echo "--backend must be sqlite, postgres or both" >&2 && exit 2 ;;
        esac
        shift
        ;;
    --duration) DURATION=${2:?} && shift ;;
    --threads) THREADS=${2:?} && shift ;;
    --connections) CONNECTIONS=${2:?} && shift ;;
    --keep) KEEP=true ;;
    -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
[[ $DURATION =~ ^[0-9]+[smh]?$ ]] || { echo "--duration like 10s" >&2; exit 2; }
[[ $THREADS =~ ^[0-9]+$ && $CONNECTIONS =~ ^[0-9]+$ ]] || { echo "bad --threads/--connections" >&2; exit 2; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
    exit 1
}
need_cmd() { # command [debian package]
    command -v "$1" >/dev/null 2>&1 && return 0
    [[ $(id -u) -eq 0 ]] || die "$1 is missing: apt-get install -y ${2:-$1}"
    log "$1 is missing: apt-get install -y ${2:-$1}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${2:-$1}" >&2 ||
        { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${2:-$1}" >&2; }
}
need_cmd curl
need_cmd jq
need_cmd wrk
need_cmd python3
[[ " ${BACKENDS[*]} " != *" postgres "* ]] || pg_isready -q -h 127.0.0.1 -p 5432 ||
    die "PostgreSQL is not reachable on 127.0.0.1:5432, or run with --backend sqlite"

TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
BIN=${XIAONENG_BIN:-$TARGET_DIR/release/xiaoneng}
if [[ $BUILD == true || ! -x $BIN ]]; then
    [[ -n ${XIAONENG_BIN:-} ]] && die "XIAONENG_BIN=$XIAONENG_BIN is not executable"
    log "cargo build --release -p xiaoneng"
    cargo build --release -p xiaoneng
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xn-bench-cost.XXXXXX")
SERVER_PID=""
PG_DB=""
stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    timeout 10 tail --pid="$SERVER_PID" -f /dev/null 2>/dev/null || kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
drop_pg_db() {
    [[ -n $PG_DB ]] || return 0
    psql "$PG_ADMIN_URL" -X -q -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
        log "could not drop database $PG_DB: drop it by hand"
    PG_DB=""
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    drop_pg_db
    if [[ $KEEP == true ]]; then log "work folder kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
printf '[log]\nlevel = "warn"\n' >"$WORK/xiaoneng.toml"
export XIAONENG_CONFIG=$WORK/xiaoneng.toml

secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

RESULTS=()
bench_backend() {
    local backend=$1 dir=$WORK/$1 store=()
    mkdir -p "$dir"
    case $backend in
    sqlite) store=(--data-dir "$dir/data") ;;
    postgres)
        PG_DB=xn_bench_cost_$$
        psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
        store=(--database-url "${PG_ADMIN_URL%/*}/$PG_DB")
        ;;
    esac

    # The ledger's write side: the demo city goes through the same commands as the API.
    local t0 demo_s check_s events
    t0=$(date +%s.%N)
    timeout 900 "$BIN" demo "${store[@]}" >"$dir/demo.log" 2>&1 || { tail -n 20 "$dir/demo.log" >&2; die "demo failed"; }
    demo_s=$(secs_since "$t0")
    t0=$(date +%s.%N)
    timeout 300 "$BIN" events check "${store[@]}" >"$dir/check.log" 2>&1 || { cat "$dir/check.log" >&2; die "events check failed"; }
    check_s=$(secs_since "$t0")
    events=$(grep -oE "[0-9]+ events" "$dir/check.log" | head -1 | cut -d" " -f1)
    log "$backend: demo ${demo_s}s, events check ${check_s}s over ${events:-?} events"

    local password
    password="Bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')-Aa1"
    printf '%s\n' "$password" | timeout 120 "$BIN" user add --username "$BENCH_USER" --role office_admin \
        "${store[@]}" --password-stdin >"$dir/user.log" 2>&1 || { cat "$dir/user.log" >&2; die "user add failed"; }
    local port base
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base=http://127.0.0.1:$port
    "$BIN" serve --bind "127.0.0.1:$port" "${store[@]}" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    local i
    for ((i = 0; i < 600; i++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/healthz" || true) == 200 ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited"
        sleep 0.1
    done
    local session
    session=$(curl -sS -D - -o /dev/null --max-time 30 -H 'Content-Type: application/json' -H "Origin: $base" \
        --data-binary "$(jq -cn --arg u "$BENCH_USER" --arg p "$password" '{username: $u, password: $p}')" \
        "$base/api/v1/auth/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: *xn_session=\([^;]*\).*/\1/p' | head -1)
    [[ -n $session ]] || die "login failed"

    local health_rps="" route out rps p50 p99 non2xx
    for route in "${ROUTES[@]}"; do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Cookie: xn_session=$session" "$base$route") == 200 ]] ||
            die "GET $route does not answer 200"
        timeout 60 wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "Cookie: xn_session=$session" "$base$route" >/dev/null
        out=$(timeout 600 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: xn_session=$session" "$base$route")
        rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
        non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
        [[ -z $non2xx ]] || die "GET $route: $non2xx answers were not 2xx"
        [[ -n $health_rps ]] || health_rps=$rps
        RESULTS+=("$(printf '%-9s %-26s rps %7s  of healthz %6s%%  p50 %-8s p99 %-8s' "$backend" "$route" "$rps" \
            "$(awk -v a="$rps" -v b="$health_rps" 'BEGIN { printf "%.1f", 100 * a / b }')" "$p50" "$p99")")
        log "${RESULTS[-1]}"
    done
    RESULTS+=("$(printf '%-9s demo city %ss (%s events written), events check %ss' "$backend" "$demo_s" "${events:-?}" "$check_s")")
    stop_server
    drop_pg_db
}

for b in "${BACKENDS[@]}"; do bench_backend "$b"; done
mkdir -p "$ROOT/bench/out"
OUT=$ROOT/bench/out/request_cost-$(date +%Y-%m-%d).txt
{
    echo "# request_cost $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(date -Is) wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
    printf '%s\n' "${RESULTS[@]}"
} | tee "$OUT"
