#!/usr/bin/env bash
# A real RTSP server for the live-source tests: GStreamer's gst-rtsp-server, driven from
# the system Python through PyGObject by tests/live/rtsp_server.py (each test starts,
# kills and restarts its own server on a loopback port; nothing runs after this script).
# Idempotent and quiet: does nothing when the server library and its elements are there.
set -euo pipefail

PY=/usr/bin/python3
check() {
    [ -x "$PY" ] && "$PY" - <<'PYEOF' >/dev/null 2>&1
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer  # noqa: F401
Gst.init(None)
missing = [e for e in ("videotestsrc", "jpegenc", "rtpjpegpay") if Gst.ElementFactory.find(e) is None]
raise SystemExit(1 if missing else 0)
PYEOF
}

check && exit 0

PACKAGES="python3 python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
if [ "$(id -u)" -ne 0 ]; then
    echo "rtsp.sh: the RTSP test server is not installed and this is not root; run: apt-get install $PACKAGES" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
check || { echo "rtsp.sh: GStreamer RTSP server still unusable after install" >&2; exit 1; }
