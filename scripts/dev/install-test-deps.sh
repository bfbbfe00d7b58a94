#!/usr/bin/env bash
# Installs what the tests need and the machine may lack: Dovecot (IMAP) and
# openssl (test certificates). Idempotent; does nothing when all are present.
set -euo pipefail
need=()
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  echo "installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -d ../shared/corpora ]; then
  echo "warning: ../shared/corpora is missing; the corpus tests will fail" >&2
fi
