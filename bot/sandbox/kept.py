"""What the sandbox's simulators keep in its folder between runs (the networks' accounts, grants and posts; the
simulated Slack's messages, threads, reactions, windows and App Home). Each is written soon after it changes, not
only when the sandbox stops: a sandbox killed without warning (kill -9, a laptop's battery running out) loses at
most the last moment. A write goes to a temporary file first and is then renamed over the old one, so a kill in the
middle of a write leaves the previous whole file, never half of one."""

from __future__ import annotations

import logging
import os
import pickle
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

QUIET_SECONDS = 0.3  # written once changes pause this long (a click brings several changes at once)
AT_MOST_SECONDS = 2.0  # and never later than this after the first change, however busy the sandbox is
_COUNT = re.compile(r"count\((-?\d+)(?:, (-?\d+))?\)")


def count_position(counter) -> tuple[int, int]:
    """Where an itertools.count stands (its next value, its step), without taking a value from it."""
    start, step = _COUNT.fullmatch(repr(counter)).groups()
    return int(start), int(step or 1)


class KeptFile:
    """One pickle file in the sandbox's folder, rewritten from `snapshot()` on a thread of its own after `changed()`
    (debounced). `snapshot` runs on that thread: it must take what it keeps consistently (under its owner's lock, or
    on its owner's event loop)."""

    def __init__(self, path: Path, snapshot: Callable[[], Any]):
        self.path = path
        self.snapshot = snapshot
        self._wake = threading.Event()
        self._dirty = False
        self._closing = False
        self._thread: threading.Thread | None = None

    def read(self) -> Any | None:
        """What was kept, or None: nothing kept yet, or a file this version cannot read (said in the log)."""
        if not self.path.exists():
            return None
        try:
            return pickle.loads(self.path.read_bytes())  # the sandbox's own file, written by `write`
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
            log.warning("The sandbox starts %s afresh: its saved state cannot be read (%s)", self.path.name,
                        type(exc).__name__)
            return None

    def start(self) -> KeptFile:
        self._thread = threading.Thread(target=self._run, name=f"kept-{self.path.name}", daemon=True)
        self._thread.start()
        return self

    def changed(self) -> None:
        """Something kept changed: written within AT_MOST_SECONDS. Safe from any thread."""
        self._dirty = True
        self._wake.set()

    def stop(self) -> None:
        """No more writes in the background; what changed since the last one is written now."""
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self._dirty:
            self.write()

    def write(self) -> None:
        self._dirty = False
        try:
            state = self.snapshot()
        except Exception:  # noqa: BLE001 - the sandbox keeps running; the next change tries again
            log.exception("The sandbox could not take %s's state to save it", self.path.name)
            self._dirty = True
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writing = self.path.with_name(self.path.name + ".writing")
        with writing.open("wb") as out:
            pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(writing, self.path)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._closing:
                return
            first = time.monotonic()
            while True:  # until changes pause, or for AT_MOST_SECONDS at the longest
                self._wake.clear()
                left = min(QUIET_SECONDS, first + AT_MOST_SECONDS - time.monotonic())
                if left <= 0 or not self._wake.wait(left) or self._closing:
                    break
            if self._closing:
                return
            if self._dirty:
                try:
                    self.write()
                except OSError as exc:
                    log.warning("The sandbox could not save %s (%s); it tries again at the next change",
                                self.path.name, exc)
                    self._dirty = True
