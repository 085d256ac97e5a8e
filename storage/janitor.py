"""What has outlived its time is deleted on a schedule: expired videos (storage/factory.py), finished jobs and
dashboard reports past their retention (the ingress)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Janitor:
    """Runs `purge` (which answers how many it deleted) every `interval_s` on a daemon thread, so nothing outlives
    its expiry by more than that; `what` names what it deletes in its log lines."""

    def __init__(self, purge: Callable[[], int], interval_s: float, what: str) -> None:
        self._purge, self._interval_s, self._what = purge, interval_s, what
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"janitor ({what})", daemon=True)

    def start(self) -> Janitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                deleted = self._purge()
                if deleted:
                    logger.info("deleted %d %s", deleted, self._what)
            except Exception as exc:  # a storage or database hiccup must not end the loop
                logger.warning("purge of %s failed: %s", self._what, type(exc).__name__)
