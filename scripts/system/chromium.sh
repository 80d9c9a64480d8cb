#!/usr/bin/env bash
# Debian's Chromium for the console's end-to-end tests (driven by the Python `playwright`
# package with executable_path=/usr/bin/chromium; `playwright install` is never used).
# Idempotent and quiet; run as root on Debian.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi dejavu; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium.sh: Chromium is not installed and this is not root; run: apt-get install chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fontconfig >/dev/null
/usr/bin/chromium --version >/dev/null
