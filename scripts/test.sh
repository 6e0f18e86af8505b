#!/usr/bin/env bash
# The one command that runs every check and test of Xiaoneng:
#
#     bash scripts/test.sh
#
# 1. makes sure a PostgreSQL server is reachable on 127.0.0.1:5432 (starting it, and under CI=true
#    installing it, when needed) and exports XIAONENG_TEST_POSTGRES_URL for the tests;
# 2. cargo fmt --check, cargo clippy -D warnings, cargo test (whole workspace, --locked);
# 3. the web front end: npm ci, vitest, the build (served by the binary), and browser tests in
#    Chromium against the binary `cargo test` built (Chromium is installed under CI=true when
#    missing);
# 4. API fuzzing with Schemathesis against that binary (scripts/api-fuzz.sh; installed under
#    CI=true into a venv in CI's cache when missing).
#
# The workspace is built once, by `cargo test` (docs/decisions/0028-one-build-for-ci.md): the
# browser tests and the fuzzing use its target/debug/xiaoneng, no release build.
#
# Exits non-zero on the first failure. Outside CI, a missing PostgreSQL only prints a warning and
# the PostgreSQL tests skip themselves; under CI=true a missing PostgreSQL is an error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

CI=${CI:-false}
PG_HOST=127.0.0.1
PG_PORT=5432
PG_DEFAULT_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/postgres"

step_start=0
step() {
    step_start=$SECONDS
    printf '\n==> %s\n' "$*"
}
step_done() {
    printf '<== done in %ds\n' "$((SECONDS - step_start))"
}
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}
is_ci() { [[ "$CI" == "true" || "$CI" == "1" ]]; }

# Run as root (CI) or through sudo when there is one; apt-get and pg_ctlcluster need root.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        return 1
    fi
}

apt_updated=false
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [[ "$apt_updated" != true ]]; then
        as_root apt-get update -qq
        apt_updated=true
    fi
    as_root apt-get install -y -qq "$@"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }

pg_installed() { compgen -G '/etc/postgresql/*' >/dev/null; }

pg_start_cluster() {
    local version
    # shellcheck disable=SC2012 # version folders are plain numbers
    version=$(ls /etc/postgresql | head -1)
    echo "starting PostgreSQL cluster ${version}/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
}

pg_wait() {
    local i
    for ((i = 0; i < 60; i++)); do
        pg_ready && return 0
        sleep 1
    done
    return 1
}

# A freshly installed Debian cluster uses peer/scram auth; the tests connect as postgres over TCP
# without a password, as on the project's machines. Only ever done under CI (a throwaway machine).
pg_trust_local() {
    local version hba
    # shellcheck disable=SC2012 # version folders are plain numbers
    version=$(ls /etc/postgresql | head -1)
    hba="/etc/postgresql/${version}/main/pg_hba.conf"
    [[ -f "$hba" ]] || return 1
    if ! grep -qE '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        echo "allowing trust auth from 127.0.0.1 in $hba (CI only)"
        as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    fi
}

pg_can_query() {
    command -v psql >/dev/null 2>&1 || return 0 # no client to check with: trust pg_isready
    psql "$1" -X -A -t -q -c 'select 1' >/dev/null 2>&1
}

setup_postgres() {
    step "PostgreSQL on ${PG_HOST}:${PG_PORT}"
    if ! command -v pg_isready >/dev/null 2>&1 && ! is_ci; then
        warn "pg_isready not found: PostgreSQL is not installed; PostgreSQL tests are SKIPPED"
        return 0
    fi
    if [[ -n "${XIAONENG_TEST_POSTGRES_URL:-}" ]] && ! is_ci; then
        # A developer pointed the tests at a server of their own: use it as it is.
        echo "using XIAONENG_TEST_POSTGRES_URL from the environment: ${XIAONENG_TEST_POSTGRES_URL}"
        pg_can_query "$XIAONENG_TEST_POSTGRES_URL" ||
            warn "'select 1' fails with XIAONENG_TEST_POSTGRES_URL; the PostgreSQL tests will probably fail"
        step_done
        return 0
    fi
    if ! pg_ready; then
        if pg_installed; then
            pg_start_cluster
            pg_wait || true
        elif is_ci; then
            echo "PostgreSQL is not installed: installing it (CI)"
            apt_install postgresql
            pg_start_cluster
            pg_wait || true
        fi
    fi

    if pg_ready; then
        export XIAONENG_TEST_POSTGRES_URL=${XIAONENG_TEST_POSTGRES_URL:-$PG_DEFAULT_URL}
        if ! pg_can_query "$XIAONENG_TEST_POSTGRES_URL" && is_ci; then
            pg_trust_local || true
            sleep 1
        fi
        if ! pg_can_query "$XIAONENG_TEST_POSTGRES_URL"; then
            if is_ci; then
                die "PostgreSQL is up on ${PG_HOST}:${PG_PORT} but 'select 1' fails with XIAONENG_TEST_POSTGRES_URL=${XIAONENG_TEST_POSTGRES_URL}"
            fi
            warn "PostgreSQL is up but 'select 1' fails with ${XIAONENG_TEST_POSTGRES_URL}; the PostgreSQL tests will probably fail"
        fi
        echo "XIAONENG_TEST_POSTGRES_URL=${XIAONENG_TEST_POSTGRES_URL}"
    elif is_ci; then
        die "PostgreSQL is not reachable on ${PG_HOST}:${PG_PORT} after trying to start/install it; CI needs it for the PostgreSQL tests"
    else
        warn "PostgreSQL is not reachable on ${PG_HOST}:${PG_PORT}: the PostgreSQL tests are SKIPPED (SQLite only)."
        warn "Start it with: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql | head -1) main start"
    fi
    step_done
}

# ---------------------------------------------------------------------------------------------
# Official documents: the PDF test typesets with Noto CJK and looks at the first page through
# poppler's pdftoppm. Under CI both are installed when missing; elsewhere the PDF check skips.
# ---------------------------------------------------------------------------------------------
setup_documents() {
    local missing=()
    compgen -G '/usr/share/fonts/opentype/noto/NotoSerifCJK-*' >/dev/null || missing+=(fonts-noto-cjk)
    command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if is_ci; then
        step "installing ${missing[*]} for the PDF documents and their test (CI)"
        apt_install "${missing[@]}"
        step_done
    else
        warn "${missing[*]} missing: PDF export is unavailable and its test is SKIPPED; install with 'apt-get install -y ${missing[*]}'"
    fi
}

# ---------------------------------------------------------------------------------------------
# Rust
# ---------------------------------------------------------------------------------------------
rust_checks() {
    step "cargo fmt --all -- --check"
    cargo fmt --all -- --check
    step_done

    step "cargo clippy --workspace --all-targets --locked -- -D warnings"
    cargo clippy --workspace --all-targets --locked -- -D warnings
    step_done

    step "cargo test --workspace --locked"
    cargo test --workspace --locked
    step_done
}

# ---------------------------------------------------------------------------------------------
# Web front end: unit tests and the build (before the Rust checks: the binary serves web/dist),
# then browser tests against the binary cargo test built (after them).
# ---------------------------------------------------------------------------------------------
web_unit_and_build() {
    step "web: npm ci"
    (cd web && npm ci --no-audit --no-fund)
    step_done

    step "web: npm test (vitest)"
    (cd web && npm test)
    step_done

    step "web: npm run build (vue-tsc, vite)"
    (cd web && npm run build)
    step_done
}

web_e2e() {
    if [[ ! -x /usr/bin/chromium ]]; then
        if is_ci; then
            step "installing Debian's chromium for the browser tests (CI)"
            apt_install chromium
            step_done
        else
            warn "/usr/bin/chromium is missing: browser tests are SKIPPED; install it with 'apt-get install -y chromium'"
            return 0
        fi
    fi

    step "web: npm run e2e (Chromium against the binary cargo test built)"
    (cd web && XN_BIN="$XN_BIN" npm run e2e)
    step_done
    echo "screenshots: web/e2e/screenshots/"
}

# ---------------------------------------------------------------------------------------------
# API fuzzing: Schemathesis against the release binary on a temporary demo city, as the office
# admin (scripts/api-fuzz.sh). Under CI it is installed with pip into a venv in CI's cache when
# missing; elsewhere a missing schemathesis only prints a warning.
# ---------------------------------------------------------------------------------------------
SCHEMATHESIS_VENV=${XN_FUZZ_VENV:-/var/cache/xiaoneng-ci/venv}
SCHEMATHESIS_VERSION=4.32.5

api_fuzz() {
    if [[ ! -x "$SCHEMATHESIS_VENV/bin/schemathesis" ]] && ! command -v schemathesis >/dev/null 2>&1; then
        if is_ci; then
            step "installing schemathesis ${SCHEMATHESIS_VERSION} into ${SCHEMATHESIS_VENV} (CI)"
            if ! python3 -m venv "$SCHEMATHESIS_VENV" 2>/dev/null; then
                rm -rf "$SCHEMATHESIS_VENV"
                apt_install python3-venv python3-pip
                python3 -m venv "$SCHEMATHESIS_VENV"
            fi
            "$SCHEMATHESIS_VENV/bin/pip" install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"
            step_done
        else
            warn "schemathesis is not installed: the API fuzzing is SKIPPED; install it with 'pip install schemathesis'"
            return 0
        fi
    fi

    step "API fuzzing: schemathesis, every GET as the office admin, no 5xx, answers match the schema"
    XN_FUZZ_VENV="$SCHEMATHESIS_VENV" bash scripts/api-fuzz.sh "$XN_BIN"
    step_done
}

# The binary `cargo test --workspace` builds (the cli's tests run it).
XN_BIN="${CARGO_TARGET_DIR:-${ROOT}/target}/debug/xiaoneng"

main() {
    echo "Xiaoneng tests in ${ROOT} (CI=${CI})"
    setup_postgres
    setup_documents
    web_unit_and_build
    rust_checks
    web_e2e
    api_fuzz
    printf '\nAll checks passed in %ds.\n' "$SECONDS"
}

main "$@"
