"""Login throttling: after too many failures for one user, or from one address, within a
window, further attempts are refused (even with the right password) until a lock-out passes.

Counted from stored attempts (see openlfr.store.users), so it holds across restarts and
across processes sharing the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from openlfr.auth.errors import LoginThrottled


@dataclass(frozen=True)
class ThrottlePolicy:
    user_failures: int = 5  # failures for one user name ...
    ip_failures: int = 20  # ... or from one address (many names) ...
    window: timedelta = timedelta(minutes=15)  # ... within this window lock ...
    lock: timedelta = timedelta(minutes=15)  # ... for this long after the last failure

    def check(
        self,
        now: datetime,
        user_failures: Sequence[datetime],
        ip_failures: Sequence[datetime],
    ) -> None:
        """Raise LoginThrottled when locked. Inputs: failure times inside the window, newest
        last, counted since the last successful login (for the user)."""
        for failures, limit, what in (
            (user_failures, self.user_failures, "for this user"),
            (ip_failures, self.ip_failures, "from this address"),
        ):
            if limit > 0 and len(failures) >= limit:
                until = max(failures) + self.lock
                if until > now:
                    minutes = max(1, round((until - now).total_seconds() / 60))
                    raise LoginThrottled(
                        f"too many failed logins {what}; try again in {minutes} minute(s)",
                        retry_after=int((until - now).total_seconds()) + 1,
                    )
