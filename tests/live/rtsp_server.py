"""A real RTSP server for the live-source tests (GStreamer's gst-rtsp-server).

Run with the system Python, which has PyGObject (the project venv does not):

    /usr/bin/python3 tests/live/rtsp_server.py --port 8554 [--user U --password P] [--frozen]

It serves a moving test pattern (or a still one with --frozen) as RTP/JPEG at
rtsp://127.0.0.1:PORT/live, over TCP or UDP as the client asks, and prints "ready"
once it listens. Loopback only. `scripts/system/rtsp.sh` installs its packages.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/live")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--frozen", action="store_true", help="send the same picture forever")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=int, default=15)
    args = parser.parse_args()

    Gst.init(None)
    width, height = (int(v) for v in args.size.split("x"))
    pattern = "smpte100" if args.frozen else "ball"
    launch = (
        f"( videotestsrc is-live=true pattern={pattern} "
        f"! video/x-raw,format=I420,width={width},height={height},framerate={args.fps}/1 "
        "! jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26 )"
    )

    server = GstRtspServer.RTSPServer.new()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory.new()
    factory.set_launch(launch)
    factory.set_shared(True)

    if args.user is not None:
        auth = GstRtspServer.RTSPAuth.new()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions.new()
        permissions.add_role("user")
        permissions.add_permission_for_role("user", "media.factory.access", True)
        permissions.add_permission_for_role("user", "media.factory.construct", True)
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
