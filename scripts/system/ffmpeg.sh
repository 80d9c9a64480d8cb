#!/usr/bin/env bash
# The ffmpeg command-line tool, which the live-source tests use to make short test clips
# (PyAV, which decodes, brings its own FFmpeg libraries and needs nothing from here).
# Idempotent and quiet: does nothing when ffmpeg is already on PATH.
set -euo pipefail

command -v ffmpeg >/dev/null 2>&1 && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "ffmpeg.sh: ffmpeg is not installed and this is not root; run: apt-get install ffmpeg" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
command -v ffmpeg >/dev/null
