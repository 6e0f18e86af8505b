#!/usr/bin/env bash
# step_cost bench: what the ledger costs on a write. Records findings and confirms each one through
# the API (each step: decided by core, applied conditionally, audited, its event appended) with
# several client threads, beside GET /healthz with the same client, on SQLite and PostgreSQL.
# With --compare OLD_BIN the same run is made against another build (e.g. one from before the
# ledger) so both are measured on the same machine in the same run. See bench/README.md.
#
#   bash bench/step_cost/run.sh [--backend sqlite|postgres|both] [--count 1000] [--threads 8]
#                               [--compare /path/to/old/xiaoneng]
#
# Only ever sends traffic to 127.0.0.1; the servers, data folders and databases are removed on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BACKENDS=(sqlite postgres)
COUNT=1000
THREADS=8
COMPARE=""
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
    --count) COUNT=${2:?} && shift ;;
    --threads) THREADS=${2:?} && shift ;;
    --compare) COMPARE=${2:?} && shift ;;
    -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
[[ $COUNT =~ ^[0-9]+$ && $THREADS =~ ^[0-9]+$ ]] || { echo "bad --count/--threads" >&2; exit 2; }

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${XIAONENG_BIN:-$TARGET_DIR/release/xiaoneng}
[[ -x $BIN ]] || (cd "$ROOT" && cargo build --release -p xiaoneng)
[[ -z $COMPARE || -x $COMPARE ]] || { echo "--compare $COMPARE is not executable" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xn-bench-steps.XXXXXX")
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
printf '[log]\nlevel = "warn"\n' >"$WORK/xiaoneng.toml"
export XIAONENG_CONFIG=$WORK/xiaoneng.toml

RESULTS=()
one() { # label binary backend
    local label=$1 bin=$2 backend=$3 dir store=() password port out
    dir=$WORK/$label-$backend
    mkdir -p "$dir"
    case $backend in
    sqlite) store=(--data-dir "$dir/data") ;;
    postgres)
        PG_DB=xn_bench_steps_$$
        psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
        store=(--database-url "${PG_ADMIN_URL%/*}/$PG_DB")
        ;;
    esac
    timeout 900 "$bin" demo "${store[@]}" >"$dir/demo.log" 2>&1 || { tail "$dir/demo.log" >&2; exit 1; }
    password="Bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')-Aa1"
    printf '%s\n' "$password" | timeout 120 "$bin" user add --username bench_office --role office_admin \
        "${store[@]}" --password-stdin >"$dir/user.log" 2>&1 || { cat "$dir/user.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$bin" serve --bind "127.0.0.1:$port" "${store[@]}" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
        sleep 0.1
    done
    out=$(timeout 1200 python3 "$HERE/steps.py" --base "http://127.0.0.1:$port" --user bench_office \
        --password "$password" --count "$COUNT" --threads "$THREADS")
    RESULTS+=("$label $backend $out")
    echo "${RESULTS[-1]}" >&2
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    if [[ -n $PG_DB ]]; then
        psql "$PG_ADMIN_URL" -X -q -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null
        PG_DB=""
    fi
}
for b in "${BACKENDS[@]}"; do
    one this "$BIN" "$b"
    [[ -z $COMPARE ]] || one compared "$COMPARE" "$b"
done
mkdir -p "$ROOT/bench/out"
{
    echo "# step_cost $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') $(date -Is) count=$COUNT threads=$THREADS"
    printf '%s\n' "${RESULTS[@]}"
} | tee "$ROOT/bench/out/step_cost-$(date +%Y-%m-%d).txt"
