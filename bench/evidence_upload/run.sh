#!/usr/bin/env bash
# evidence_upload bench: upload one large evidence file over loopback with tus (one POST, one
# streaming PATCH), beside the machine's own limits measured in the same run on the same file:
# `sha256sum` of it, and a plain copy of it to the same disk (with fsync). Prints seconds, MB/s,
# the ratios, and the server's memory before and at its peak; checks that the stored SHA-256
# equals `sha256sum`'s. Writes the summary to bench/out/evidence_upload-<date>.txt.
#
#   bash bench/evidence_upload/run.sh [--build] [--size-mb 1024] [--keep]
#
# Only ever sends traffic to 127.0.0.1. The server and its work folder are removed on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

SIZE_MB=1024
BUILD=false
KEEP=false
BENCH_USER=bench_office

while [[ $# -gt 0 ]]; do
    case $1 in
    --build) BUILD=true ;;
    --size-mb) SIZE_MB=${2:?} && shift ;;
    --keep) KEEP=true ;;
    -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
[[ $SIZE_MB =~ ^[0-9]+$ && $SIZE_MB -ge 1 && $SIZE_MB -le 16384 ]] || { echo "--size-mb must be 1..16384" >&2; exit 2; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
    exit 1
}
for c in curl jq python3 sha256sum; do command -v "$c" >/dev/null || die "needs $c"; done

BIN=${XIAONENG_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/xiaoneng}
if [[ $BUILD == true || ! -x $BIN ]]; then
    log "cargo build --release -p xiaoneng"
    cargo build --release -p xiaoneng
fi
[[ -x $BIN ]] || die "no binary at $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xn-bench-upload.XXXXXX")
SERVER_PID=""
SERVER_LOG=$WORK/server.log
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ $rc -ne 0 && -s $SERVER_LOG ]] && tail -n 30 "$SERVER_LOG" >&2
    if [[ $KEEP == true ]]; then log "work folder kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$WORK/xiaoneng.toml" <<'EOF_TOML'
[log]
level = "warn"
EOF_TOML
export XIAONENG_CONFIG=$WORK/xiaoneng.toml

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mbps() { awk -v s="$1" -v mb="$SIZE_MB" 'BEGIN { printf "%.0f", mb / s }'; }
vm_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------------------------- the file
FILE=$WORK/evidence.mp4
log "a ${SIZE_MB} MiB video-like file (an MP4 ftyp box, then random bytes)"
printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2avc1mp41' >"$FILE"
head -c "$((SIZE_MB * 1024 * 1024 - 32))" /dev/urandom >>"$FILE"
BYTES=$(stat -c %s "$FILE")
cat "$FILE" >/dev/null # same page-cache state for every contender

# ---------------------------------------------------------------------------------- the limits
log "sha256sum"
t0=$(now)
EXPECTED=$(sha256sum "$FILE" | cut -d' ' -f1)
t1=$(now)
T_SHA=$(secs "$t0" "$t1")
log "plain copy to the same disk (with fsync)"
t0=$(now)
dd if="$FILE" of="$WORK/copy.mp4" bs=4M conv=fsync status=none
t1=$(now)
T_CP=$(secs "$t0" "$t1")
rm -f "$WORK/copy.mp4"

# ---------------------------------------------------------------------------------- the server
DATA=$WORK/data
log "demo city and an office account"
timeout 600 "$BIN" demo --data-dir "$DATA" >"$WORK/demo.log" 2>&1 || die "xiaoneng demo failed"
PASSWORD="Bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')-Aa1"
printf '%s\n' "$PASSWORD" | timeout 120 "$BIN" user add --username "$BENCH_USER" --role office_admin \
    --data-dir "$DATA" --password-stdin >"$WORK/user.log" 2>&1 || die "xiaoneng user add failed"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
"$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$DATA" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for ((i = 0; i < 600; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/healthz" || true) == 200 ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
    sleep 0.1
done
H=$WORK/headers
curl -sS -D "$H" -o "$WORK/login.json" -H 'Content-Type: application/json' -H "Origin: $BASE" \
    --data-binary "$(jq -cn --arg u "$BENCH_USER" --arg p "$PASSWORD" '{username: $u, password: $p}')" \
    "$BASE/api/v1/auth/login" >/dev/null
COOKIE=$(tr -d '\r' <"$H" | sed -n 's/^[Ss]et-[Cc]ookie: *\(xn_session=[^;]*\).*/\1/p' | head -1)
[[ -n $COOKIE ]] || die "login failed: $(cat "$WORK/login.json")"
curl -sS -H "Cookie: $COOKIE" "$BASE/api/v1/findings?state=confirmed&page_size=1" -o "$WORK/f.json"
FINDING=$(jq -e '.items[0].id' "$WORK/f.json") || die "no confirmed finding in the demo city"

RSS_BEFORE=$(vm_kib "$SERVER_PID" VmRSS)
HWM_BEFORE=$(vm_kib "$SERVER_PID" VmHWM)
META="filename $(printf 'bench.mp4' | base64 -w0),purpose $(printf 'evidence' | base64 -w0)"
curl -sS -D "$H" -o /dev/null -X POST -H "Cookie: $COOKIE" -H "Origin: $BASE" -H 'Tus-Resumable: 1.0.0' \
    -H "Upload-Length: $BYTES" -H "Upload-Metadata: $META" "$BASE/api/v1/findings/$FINDING/uploads"
LOCATION=$(tr -d '\r' <"$H" | sed -n 's/^[Ll]ocation: *//p')
[[ -n $LOCATION ]] || die "the upload was not created: $(cat "$H")"
log "tus PATCH of $BYTES bytes to finding $FINDING"
# Sample the server's resident memory every 50 ms while the upload runs: its peak during the
# upload, beside its size just before.
(
    max=0
    while kill -0 "$SERVER_PID" 2>/dev/null && [[ ! -e $WORK/upload.done ]]; do
        r=$(vm_kib "$SERVER_PID" VmRSS)
        ((r > max)) && max=$r && echo "$max" >"$WORK/rss.max"
        sleep 0.05
    done
) &
SAMPLER=$!
t0=$(now)
STATUS=$(curl -sS -o "$WORK/patch.out" -w '%{http_code}' -X PATCH -T "$FILE" -H "Cookie: $COOKIE" -H "Origin: $BASE" \
    -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' \
    -H 'Expect:' "$BASE$LOCATION")
t1=$(now)
[[ $STATUS == 204 ]] || die "PATCH answered $STATUS: $(cat "$WORK/patch.out")"
T_UP=$(secs "$t0" "$t1")
touch "$WORK/upload.done"
wait "$SAMPLER" || true
RSS_PEAK=$(cat "$WORK/rss.max" 2>/dev/null || echo 0)
HWM_AFTER=$(vm_kib "$SERVER_PID" VmHWM)
curl -sS -H "Cookie: $COOKIE" "$BASE/api/v1/findings/$FINDING" -o "$WORK/detail.json"
STORED=$(jq -r '.evidence | map(select(.filename == "bench.mp4")) | .[0].sha256' "$WORK/detail.json")
[[ $STORED == "$EXPECTED" ]] || die "stored SHA-256 $STORED != sha256sum $EXPECTED"

# ---------------------------------------------------------------------------------- the report
mkdir -p bench/out
OUT=bench/out/evidence_upload-$(date +%Y%m%d-%H%M%S).txt
{
    echo "evidence_upload: ${SIZE_MB} MiB over loopback, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
    printf '%-34s %8s s %7s MB/s\n' "sha256sum" "$T_SHA" "$(mbps "$T_SHA")"
    printf '%-34s %8s s %7s MB/s\n' "plain copy (dd, fsync)" "$T_CP" "$(mbps "$T_CP")"
    printf '%-34s %8s s %7s MB/s\n' "tus upload (SHA-256 + SM3 + store)" "$T_UP" "$(mbps "$T_UP")"
    awk -v u="$T_UP" -v s="$T_SHA" -v c="$T_CP" \
        'BEGIN { printf "upload / sha256sum = %.2f   upload / copy = %.2f   upload / (sha256sum + copy) = %.2f\n", u / s, u / c, u / (s + c) }'
    echo "server memory: RSS $(mb "$RSS_BEFORE") MB before the upload, $(mb "$RSS_PEAK") MB at most during it (+$(mb $((RSS_PEAK - RSS_BEFORE))) MB); VmHWM $(mb "$HWM_BEFORE") → $(mb "$HWM_AFTER") MB"
    echo "stored SHA-256 = sha256sum = $EXPECTED"
} | tee "$OUT"
