#!/usr/bin/env bash
# Fuzzes the API with Schemathesis: every read (GET) operation of /api/openapi.json, called as the
# demo city's office admin with generated parameters (valid and invalid), on a built binary
# (default: the debug one `cargo test` builds) serving a temporary demo city. Fails on any 5xx
# (`not_a_server_error`) and on any answer that does not match its documented schema
# (`response_schema_conformance`).
#
#     bash scripts/api-fuzz.sh [path/to/xiaoneng]
#
# The seed is fixed so that a run can be repeated exactly; XN_FUZZ_EXAMPLES (default 100) bounds
# the cases per operation, and the whole run is stopped after XN_FUZZ_TIMEOUT seconds (600).
# Needs `schemathesis` on PATH or in $XN_FUZZ_VENV (default /var/cache/xiaoneng-ci/venv, where
# scripts/test.sh installs it under CI). Writes are left out: a fuzzed write changes the city
# the next case reads (and may end the session), which makes a run depend on its own history.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=${1:-${CARGO_TARGET_DIR:-target}/debug/xiaoneng}
VENV=${XN_FUZZ_VENV:-/var/cache/xiaoneng-ci/venv}
EXAMPLES=${XN_FUZZ_EXAMPLES:-100}
SEED=${XN_FUZZ_SEED:-20261206}
TIMEOUT=${XN_FUZZ_TIMEOUT:-600}
REPORTS=${XN_FUZZ_REPORTS:-${CARGO_TARGET_DIR:-target}/schemathesis}

if [[ -x "$VENV/bin/schemathesis" ]]; then
    ST="$VENV/bin/schemathesis"
    PY="$VENV/bin/python"
elif command -v schemathesis >/dev/null 2>&1; then
    ST=$(command -v schemathesis)
    PY=python3
else
    echo "ERROR: schemathesis is not installed (pip install schemathesis, or run under CI=true)" >&2
    exit 1
fi
[[ -x "$BIN" ]] || {
    echo "ERROR: no xiaoneng binary at $BIN: build it with cargo build -p xiaoneng" >&2
    exit 1
}

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n "$pid" ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$BIN" demo --months 1 --data-dir "$work/city" >/dev/null
"$BIN" serve --bind 127.0.0.1:0 --data-dir "$work/city" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
url=
for ((i = 0; i < 100; i++)); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.out" || true)
    [[ -n "$url" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
done
if [[ -z "$url" ]]; then
    echo "ERROR: the server did not start:" >&2
    cat "$work/serve.out" "$work/serve.err" >&2
    exit 1
fi

# The session cookie of the office admin (the password is the demo city's, printed by `demo`).
cookie=$("$PY" - "$url" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(
    sys.argv[1] + "/api/v1/auth/login",
    data=json.dumps({"username": "xnb_admin", "password": "Xiaoneng@2026"}).encode(),
    headers={"Content-Type": "application/json"},
)
with urllib.request.urlopen(req) as r:
    for v in r.headers.get_all("Set-Cookie") or []:
        first = v.split(";", 1)[0]
        if first.startswith("xn_session="):
            print(first)
            break
PY
)
[[ -n "$cookie" ]] || {
    echo "ERROR: could not log in as xnb_admin" >&2
    exit 1
}

mkdir -p "$REPORTS"
echo "schemathesis $("$ST" --version | awk '{print $NF}') against $url as xnb_admin: GET, $EXAMPLES examples, seed $SEED"
status=0
timeout "$TIMEOUT" "$ST" run "$url/api/openapi.json" \
    --header "Cookie: $cookie" \
    --include-method GET \
    --checks not_a_server_error,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --generation-database none \
    --workers 2 \
    --request-timeout 30 \
    --no-color \
    --report junit --report-junit-path "$REPORTS/junit.xml" || status=$?
if grep -q 'panicked' "$work/serve.err"; then
    echo "the server panicked during the run:" >&2
    grep -A3 'panicked' "$work/serve.err" | head -40 >&2
    status=1
fi
[[ $status -eq 124 ]] && echo "ERROR: schemathesis ran past ${TIMEOUT}s and was stopped" >&2
exit "$status"
