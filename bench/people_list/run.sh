#!/usr/bin/env bash
# people_list bench: log in, then load `GET /api/v1/people` pages of a 10,000-person roster with
# wrk, on SQLite and on PostgreSQL. Prints one line per backend (rps, p50/p99 latency, server
# peak RSS) and writes them to bench/out/people_list-<date>.txt. See bench/README.md.
#
#   bash bench/people_list/run.sh [--build] [--backend sqlite|postgres|both] [--people N]
#                                 [--duration 20s] [--threads 2] [--connections 32] [--keep]
#
# Only ever sends traffic to 127.0.0.1. Every step is bounded in time; the server, its data folder
# and the PostgreSQL database it made are removed on exit, whatever the exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

# ----------------------------------------------------------------------------------------------
# options
# ----------------------------------------------------------------------------------------------
BACKENDS=(sqlite postgres)
PEOPLE=10000
PAGE_SIZE=20
DURATION=20s
WARMUP=3s
THREADS=2
CONNECTIONS=32
BUILD=false
KEEP=false
PG_ADMIN_URL=${XIAONENG_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BENCH_USER=bench_admin

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

Options:
  --build              cargo build --release -p xiaoneng first (also done when the binary is missing)
  --backend B          sqlite, postgres or both (default both)
  --people N           roster size to load before the run (default $PEOPLE)
  --duration D         wrk duration, e.g. 20s (default $DURATION); a ${WARMUP} warm-up runs first
  --threads T          wrk threads (default $THREADS)
  --connections C      wrk connections (default $CONNECTIONS)
  --keep               keep the work folder (server logs, xlsx files, wrk output) for inspection
Environment:
  CARGO_TARGET_DIR     where the release binary is (default target/)
  XIAONENG_BIN         use this binary instead
  XIAONENG_BENCH_PG_URL  admin URL of the PostgreSQL server (default $PG_ADMIN_URL)
EOF
}

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
    --people) PEOPLE=${2:?} && shift ;;
    --duration) DURATION=${2:?} && shift ;;
    --threads) THREADS=${2:?} && shift ;;
    --connections) CONNECTIONS=${2:?} && shift ;;
    --keep) KEEP=true ;;
    -h | --help) usage && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
[[ $PEOPLE =~ ^[0-9]+$ && $PEOPLE -ge 1 && $PEOPLE -le 200000 ]] || { echo "--people must be 1..200000" >&2; exit 2; }
[[ $DURATION =~ ^[0-9]+[smh]?$ ]] || { echo "--duration like 20s" >&2; exit 2; }
[[ $THREADS =~ ^[0-9]+$ && $CONNECTIONS =~ ^[0-9]+$ ]] || { echo "bad --threads/--connections" >&2; exit 2; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
    exit 1
}

# ----------------------------------------------------------------------------------------------
# tools
# ----------------------------------------------------------------------------------------------
apt_updated=false
need_cmd() { # command [debian package]
    command -v "$1" >/dev/null 2>&1 && return 0
    local pkg=${2:-$1}
    [[ $(id -u) -eq 0 ]] || die "$1 is missing: apt-get install -y $pkg"
    log "$1 is missing: apt-get install -y $pkg"
    export DEBIAN_FRONTEND=noninteractive
    if [[ $apt_updated != true ]]; then
        apt-get update -qq >&2
        apt_updated=true
    fi
    apt-get install -y -qq "$pkg" >&2
}
need_cmd curl
need_cmd jq
need_cmd wrk
need_cmd python3
need_cmd timeout coreutils
python3 -c 'import openpyxl' 2>/dev/null || {
    log "openpyxl is missing: pip install openpyxl"
    python3 -m pip install --quiet openpyxl >&2
}
if [[ " ${BACKENDS[*]} " == *" postgres "* ]]; then
    need_cmd psql postgresql-client
    need_cmd pg_isready postgresql-client
    pg_isready -q -h 127.0.0.1 -p 5432 ||
        die "PostgreSQL is not reachable on 127.0.0.1:5432 (start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql | head -1) main start), or run with --backend sqlite"
fi

TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
BIN=${XIAONENG_BIN:-$TARGET_DIR/release/xiaoneng}
if [[ $BUILD == true || ! -x $BIN ]]; then
    [[ -n ${XIAONENG_BIN:-} ]] && die "XIAONENG_BIN=$XIAONENG_BIN is not executable"
    log "cargo build --release -p xiaoneng (the first release build takes several minutes)"
    cargo build --release -p xiaoneng
fi
[[ -x $BIN ]] || die "no binary at $BIN"

# ----------------------------------------------------------------------------------------------
# work folder, cleanup
# ----------------------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xn-bench-people.XXXXXX")
SERVER_PID=""
SERVER_LOG=""
PG_DB=""
CHILD_PID=""

# run_child CMD...: run a long command in the background and wait for it, so that a signal to this
# script is handled at once (bash runs traps only after a foreground child has finished).
run_child() {
    "$@" &
    CHILD_PID=$!
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            log "server $SERVER_PID ignored SIGTERM for 10 s: SIGKILL"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

drop_pg_db() {
    [[ -n $PG_DB ]] || return 0
    psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
        log "could not drop database $PG_DB: drop it by hand"
    PG_DB=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ $rc -ne 0 && -n $SERVER_LOG && -s $SERVER_LOG ]]; then
        log "last lines of the server log ($SERVER_LOG):"
        tail -n 30 "$SERVER_LOG" >&2 || true
    fi
    if [[ -n $CHILD_PID ]]; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    stop_server
    drop_pg_db
    if [[ $KEEP == true ]]; then
        log "work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Settings of our own, so that a ./xiaoneng.toml of the developer's does not change the run.
cat >"$WORK/xiaoneng.toml" <<'EOF_TOML'
# people_list bench: defaults, quiet logs
[log]
level = "warn"
EOF_TOML
export XIAONENG_CONFIG=$WORK/xiaoneng.toml

# ----------------------------------------------------------------------------------------------
# HTTP helpers (all against 127.0.0.1)
# ----------------------------------------------------------------------------------------------
BASE=""
SESSION=""
BODY=$WORK/body.json

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http METHOD PATH [curl args...]: body to $BODY, prints the status code.
http() {
    local method=$1 path=$2
    shift 2
    local args=(-sS -o "$BODY" -w '%{http_code}' --max-time 900 -X "$method" -H 'Accept: application/json')
    [[ -n $SESSION ]] && args+=(-H "Cookie: xn_session=$SESSION")
    [[ $method != GET ]] && args+=(-H "Origin: $BASE")
    curl "${args[@]}" "$@" "$BASE$path" || true # -w prints 000 when no answer came
}

# get_json PATH: GET that must answer 200; the body is in $BODY.
get_json() {
    local status
    status=$(http GET "$1")
    [[ $status == 200 ]] || die "GET $1 answered $status: $(head -c 500 "$BODY" 2>/dev/null)"
}

wait_healthy() {
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/healthz" || true) == 200 ]] && return 0
        sleep 0.1
    done
    die "GET /healthz did not answer 200 within 60 s"
}

login() {
    local headers=$WORK/login.headers status
    SESSION=""
    status=$(http POST /api/v1/auth/login -D "$headers" -H 'Content-Type: application/json' \
        --data-binary "$(jq -cn --arg u "$BENCH_USER" --arg p "$BENCH_PASSWORD" '{username: $u, password: $p}')")
    [[ $status == 200 ]] || die "login answered $status: $(head -c 500 "$BODY")"
    SESSION=$(tr -d '\r' <"$headers" | sed -n 's/^[Ss]et-[Cc]ookie: *xn_session=\([^;]*\).*/\1/p' | head -1)
    [[ -n $SESSION ]] || die "login answered 200 without a Set-Cookie: xn_session=... header"
}

people_total() { # -> total
    get_json "/api/v1/people?page=1&page_size=$PAGE_SIZE"
    jq -e '.total' "$BODY" || die "no .total in GET /api/v1/people: $(head -c 300 "$BODY")"
}

kib_to_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

vm_kib() { # pid field -> KiB
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# ----------------------------------------------------------------------------------------------
# one backend
# ----------------------------------------------------------------------------------------------
RESULTS=()
FAILED=()

bench_backend() {
    local backend=$1
    local store=() dir=$WORK/$backend
    mkdir -p "$dir"
    SERVER_LOG=$dir/server.log
    case $backend in
    sqlite) store=(--data-dir "$dir/data") ;;
    postgres)
        PG_DB=xn_bench_$$
        psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
        store=(--database-url "${PG_ADMIN_URL%/*}/$PG_DB")
        ;;
    esac
    log "== $backend: ${store[*]}"

    log "demo city"
    run_child timeout 600 "$BIN" demo "${store[@]}" >"$dir/demo.log" 2>&1 || {
        tail -n 20 "$dir/demo.log" >&2
        die "xiaoneng demo failed ($backend)"
    }
    BENCH_PASSWORD="Bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')-Aa1"
    printf '%s\n' "$BENCH_PASSWORD" |
        timeout 120 "$BIN" user add --username "$BENCH_USER" --role office_admin "${store[@]}" --password-stdin \
            >"$dir/user.log" 2>&1 || {
        tail -n 20 "$dir/user.log" >&2
        die "xiaoneng user add failed ($backend)"
    }

    local port
    port=$(free_port)
    BASE="http://127.0.0.1:$port"
    log "serve on $BASE"
    RUST_LOG=${RUST_LOG:-warn} "$BIN" serve --bind "127.0.0.1:$port" "${store[@]}" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    wait_healthy
    login

    # department codes
    local departments=$dir/departments.jsonl codes=$dir/department_codes.txt page=1 total n
    : >"$departments"
    while :; do
        get_json "/api/v1/departments?page=$page&page_size=100"
        jq -c '.items[]' "$BODY" >>"$departments"
        total=$(jq '.total' "$BODY")
        n=$(wc -l <"$departments")
        [[ $(jq '.items | length' "$BODY") -gt 0 && $n -lt $total && $page -lt 100 ]] || break
        page=$((page + 1))
    done
    # only active departments take people (retired ones have no status field in an older API: keep)
    jq -r 'select((.status // "active") == "active") | .code' "$departments" >"$codes"
    n=$(wc -l <"$codes")
    [[ $n -gt 0 ]] || die "GET /api/v1/departments gave no active department codes"
    log "$n active departments (of $(wc -l <"$departments"))"

    # roster up to $PEOPLE
    local have need start_import import_s=0 files=()
    have=$(people_total)
    need=$((PEOPLE - have))
    log "roster has $have people; importing $need more"
    if [[ $need -gt 0 ]]; then
        mapfile -t files < <(python3 "$HERE/gen_people.py" --count "$need" --departments-file "$codes" \
            --out-dir "$dir/xlsx" --chunk 5000)
        start_import=$(date +%s.%N)
        local f status
        for f in "${files[@]}"; do
            status=$(http POST /api/v1/people/import --data-binary "@$f" \
                -H 'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
            if [[ $status != 200 ]]; then
                jq . "$BODY" 2>/dev/null | head -n 60 >&2 || head -c 3000 "$BODY" >&2
                die "import of $(basename "$f") answered $status"
            fi
            log "imported $(basename "$f"): $(jq -c . "$BODY" | head -c 200)"
        done
        import_s=$(echo "$start_import $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
    fi
    have=$(people_total)
    [[ $have -eq $PEOPLE ]] || die "roster total is $have after the import, expected $PEOPLE"
    local import_hwm_kib
    import_hwm_kib=$(vm_kib "$SERVER_PID" VmHWM)

    # request paths: every page, plus one filtered query after every 5th page
    local pages=$(((have + PAGE_SIZE - 1) / PAGE_SIZE)) filters=() candidates=() q t
    # Filters of GET /api/v1/people: by department (and its sub-departments; the deepest
    # departments are tried first, the first one that narrows the roster is used), by name
    # (a common surname) and by employee number prefix.
    local dept_ids=() id surname used_dept=false
    mapfile -t dept_ids < <(jq -s -r 'sort_by(-(.depth // 0), .id) | .[] | select((.status // "active") == "active") | .id' "$departments" | head -n 5)
    surname=$(jq -rn --arg s "王" '$s | @uri')
    for id in "${dept_ids[@]}"; do candidates+=("department_id=$id"); done
    candidates+=("q=$surname" "q=B5001")
    for q in "${candidates[@]}"; do
        [[ $q == department_id=* && $used_dept == true ]] && continue
        if [[ $(http GET "/api/v1/people?$q&page=1&page_size=$PAGE_SIZE") == 200 ]] &&
            t=$(jq -e '.total' "$BODY") && [[ $t -gt 0 && $t -lt $have ]]; then
            filters+=("$q")
            [[ $q == department_id=* ]] && used_dept=true
            log "filter $q: $t people"
        else
            log "filter $q: not used (status or total does not show a filter; body: $(head -c 120 "$BODY"))"
        fi
    done
    local paths=$dir/paths.txt p
    : >"$paths"
    for ((p = 1; p <= pages; p++)); do
        echo "/api/v1/people?page=$p&page_size=$PAGE_SIZE" >>"$paths"
        if [[ ${#filters[@]} -gt 0 && $((p % 5)) -eq 0 ]]; then
            echo "/api/v1/people?${filters[$(((p / 5) % ${#filters[@]}))]}&page=$(((p / 5) % 3 + 1))&page_size=$PAGE_SIZE" >>"$paths"
        fi
    done
    get_json "/api/v1/people?page=$pages&page_size=$PAGE_SIZE"
    [[ $(jq '.items | length' "$BODY") -gt 0 ]] || die "the last page ($pages) is empty"
    log "$(wc -l <"$paths") request paths ($pages pages, ${#filters[@]} filters)"

    # load
    local wrk_args=(-t"$THREADS" -c"$CONNECTIONS" --latency -s "$HERE/pages.lua" "$BASE")
    log "warm-up: wrk -d$WARMUP"
    run_child timeout 120 wrk -d"$WARMUP" "${wrk_args[@]}" -- "$SESSION" "$paths" >"$dir/wrk-warmup.txt"
    # Reset the peak-RSS mark so VmHWM is the peak under load (writing 5 to clear_refs; Linux).
    echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
    log "load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
    run_child timeout 600 wrk -d"$DURATION" "${wrk_args[@]}" -- "$SESSION" "$paths" >"$dir/wrk.txt"
    cat "$dir/wrk.txt" >&2
    local load_hwm_kib
    load_hwm_kib=$(vm_kib "$SERVER_PID" VmHWM)
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server died under load"

    # check the session still works (a 401 under load would show as errors_status)
    get_json "/api/v1/people?page=1&page_size=$PAGE_SIZE"
    stop_server
    drop_pg_db

    local line rps p50 p99 status_errors other_errors
    line=$(grep '^WRK_RESULT' "$dir/wrk.txt") || die "no WRK_RESULT line in the wrk output"
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    rps=$(field rps)
    p50=$(field p50_ms)
    p99=$(field p99_ms)
    status_errors=$(field errors_status)
    other_errors=$(($(field errors_connect) + $(field errors_read) + $(field errors_write) + $(field errors_timeout)))
    local row
    row=$(printf '%-9s %9s %8s %8s %12s %14s %8s %6s %6s' "$backend" "$rps" "$p50" "$p99" \
        "$(kib_to_mb "$load_hwm_kib")" "$(kib_to_mb "$import_hwm_kib")" "$import_s" \
        "$status_errors" "$other_errors")
    RESULTS+=("$row")
    if [[ $status_errors -ne 0 || $other_errors -ne 0 ]]; then
        FAILED+=("$backend: $status_errors non-2xx/3xx responses, $other_errors socket errors/timeouts")
    fi
    printf '%s\n' "$row"
    SERVER_LOG=""
}

HEADER=$(printf '%-9s %9s %8s %8s %12s %14s %8s %6s %6s' backend rps p50_ms p99_ms peak_rss_mb import_rss_mb import_s non2xx errors)
echo "$HEADER"
for backend in "${BACKENDS[@]}"; do
    bench_backend "$backend"
done

# ----------------------------------------------------------------------------------------------
# results file
# ----------------------------------------------------------------------------------------------
mkdir -p "$ROOT/bench/out"
OUT=$ROOT/bench/out/people_list-$(date +%Y%m%d-%H%M%S).txt
{
    echo "# people_list bench, $(date -Iseconds)"
    echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
    echo "# $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); binary $BIN"
    echo "# roster $PEOPLE people; GET /api/v1/people pages 1..$(((PEOPLE + PAGE_SIZE - 1) / PAGE_SIZE)) (page_size=$PAGE_SIZE) + filtered queries"
    echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up); wrk and the server share the machine"
    echo "# peak_rss_mb = server VmHWM during the load; import_rss_mb = VmHWM from start through demo data and the import"
    echo "$HEADER"
    printf '%s\n' "${RESULTS[@]}"
    for backend in "${BACKENDS[@]}"; do
        echo
        echo "## wrk output, $backend"
        cat "$WORK/$backend/wrk.txt"
    done
} >"$OUT"
log "results written to ${OUT#"$ROOT"/}"

if [[ ${#FAILED[@]} -gt 0 ]]; then
    printf 'ERROR: %s\n' "${FAILED[@]}" >&2
    exit 1
fi
