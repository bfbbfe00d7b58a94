#!/usr/bin/env bash
# Installs what the tests need and the machine may lack: Dovecot (IMAP),
# openssl (test certificates) and the Python aiosmtpd package (the SMTP sink
# scripts/dev/smtp_sink.py). Idempotent; does nothing when all are present.
set -euo pipefail
need=()
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  echo "installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "installing aiosmtpd==1.4.6 (pip)" >&2
  python3 -m pip install --quiet aiosmtpd==1.4.6 \
    || python3 -m pip install --quiet --user aiosmtpd==1.4.6 \
    || python3 -m pip install --quiet --user --break-system-packages aiosmtpd==1.4.6
fi
if [ ! -d ../shared/corpora ]; then
  echo "warning: ../shared/corpora is missing; the corpus tests will fail" >&2
fi
