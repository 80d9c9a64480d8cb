"""Keep camera credentials out of logs and error messages.

Camera URLs carry passwords (``rtsp://admin:secret@cam/stream``) and some put them in the
query (``?user=admin&password=secret``). Everything this package logs or raises passes
through :func:`redact` first; :class:`RedactingFilter` does the same for any log handler.
"""

from __future__ import annotations

import logging
import re

# scheme://userinfo@ ; greedy up to the last "@" before the host, since people write raw
# "@" in passwords. Stops at "/", whitespace and quotes so it never eats the path.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s'\"<>]*)@")
_SECRET_PARAM = re.compile(
    r"(?i)(?P<key>[?&;](?:user(?:name)?|login|pass(?:word|wd)?|pwd|token|access_token|"
    r"api_?key|key|secret|auth|sig(?:nature)?)=)[^&;#\s'\"<>]*"
)


def redact(text: object) -> str:
    """``text`` as a string with every URL's user name, password and secret parameters masked.

    >>> redact("rtsp://admin:s3cret@10.0.0.5:554/live")
    'rtsp://***:***@10.0.0.5:554/live'
    """

    def _userinfo(match: re.Match[str]) -> str:
        masked = "***:***" if ":" in match.group("userinfo") else "***"
        return f"{match.group('scheme')}{masked}@"

    out = _USERINFO.sub(_userinfo, str(text))
    return _SECRET_PARAM.sub(lambda m: f"{m.group('key')}***", out)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts a record's message (and its arguments) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True
