#!/usr/bin/env bash
# Re-run every benchmark that BENCHMARKS.md reports.
#   bash scripts/bench.sh              # criterion (parse + classify) and the end-to-end bench, both databases
#   bash scripts/bench.sh --mails 2000 # extra options go to the end-to-end bench (see benches/e2e/main.rs)
# Needs Dovecot (scripts/dev/install-test-deps.sh installs it) and, for the
# PostgreSQL half, a server on 127.0.0.1:5432 (MAILGATE_TEST_PG overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dovecot >/dev/null || bash scripts/dev/install-test-deps.sh
cargo bench --locked --bench parse_classify
mkdir -p target/bench
cargo bench --locked --bench e2e -- --out target/bench/e2e.md "$@"
echo "end-to-end report: target/bench/e2e.md"
