#!/usr/bin/env bash
# The whole test suite: unit tests, the shared-corpus parsing tests, the
# fake-Jira schema checks, and end-to-end tests against a real Dovecot on
# SQLite and (when one answers on 127.0.0.1:5432) PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/dev/install-test-deps.sh
cargo test --locked --workspace "$@"
