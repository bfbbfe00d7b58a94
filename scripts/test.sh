#!/usr/bin/env bash
# The whole test suite, every workspace crate: unit tests, the shared-corpus
# parsing tests (tests/parsing), the fake-Jira schema checks
# (tests/jira_schema), and end-to-end tests (tests/e2e) against a real
# Dovecot on SQLite and (when one answers on 127.0.0.1:5432) PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/dev/install-test-deps.sh
cargo test --locked --workspace "$@"
