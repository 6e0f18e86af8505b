#!/usr/bin/env bash
# Builds Xiaoneng — the web application, then the server that embeds it — and starts it with a
# demo city in ./data on http://127.0.0.1:8080. Extra arguments go to `xiaoneng serve`
# (for example --bind 0.0.0.0:8080 or --data-dir /srv/xiaoneng).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v npm >/dev/null || { echo "Node.js 20 and npm are needed to build the web application" >&2; exit 1; }
(
    cd web
    # Install only when package-lock.json changed since the last install.
    if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
        npm ci --no-audit --no-fund
    fi
    npm run build
)
cargo build --release -p xiaoneng
exec "${CARGO_TARGET_DIR:-target}/release/xiaoneng" serve --demo "$@"
