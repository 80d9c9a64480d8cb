"""The retention schedule inside `openlfr serve`: purge every N minutes, in a thread so the
event loop keeps serving. Each run is audited by the store (counts only)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from openlfr.api.metrics import Metrics
from openlfr.domain.retention import RetentionPolicy
from openlfr.store import Store

log = logging.getLogger("openlfr.api.retention")
ACTOR = "system:retention"


class RetentionSchedule:
    def __init__(
        self,
        store: Store,
        interval_minutes: float,
        policy: RetentionPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.interval = interval_minutes * 60.0
        self.policy = policy or RetentionPolicy.from_env()
        self.metrics = metrics
        self.runs = 0
        self._task: asyncio.Task | None = None

    def run_once(self):
        try:
            report = self.store.purge(ACTOR, self.policy)
        except Exception:
            log.exception("retention purge failed")
            if self.metrics:
                self.metrics.purges.labels("error").inc()
            return None
        self.runs += 1
        if self.metrics:
            self.metrics.purges.labels("ok").inc()
        log.info("retention purge: %s", report.as_dict())
        return report

    async def _loop(self) -> None:
        while True:  # first run at start-up: anything overdue goes at once
            await asyncio.to_thread(self.run_once)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
