"""A client-side bound on every adapter call, for the server that cannot enforce its own ``statement_timeout``.

A frozen server (SIGSTOP, a hung VM) or a network that silently drops packets never answers, and the server-side
timeouts never fire. One daemon thread keeps the deadlines of the calls in flight; a call still waiting at its
deadline has its socket shut down, which wakes the waiting psycopg call with an error at once (a cancel request
would need the same frozen server to act on it). The connection is then broken and the pool discards it.

Example:
    >>> with WATCHDOG.guard(conn, timeout_s=5.0) as guard:       # doctest: +SKIP
    ...     conn.execute("SELECT 1")
    >>> guard.fired                                              # doctest: +SKIP
    False
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Any


class Guard:
    """One guarded call: its connection's socket, its deadline, and whether the watchdog had to drop it.

    It is its own context manager (entering registers the deadline, leaving retires it): a class costs a third
    of what a ``contextlib.contextmanager`` generator did on every adapter call (bench/adapter.py's hot path).

    Example:
        >>> g = Guard(None, 1.0, Watchdog())
        >>> g.fired
        False
    """

    __slots__ = ("_conn", "_dog", "deadline", "done", "fd", "fired", "timeout_s")

    def __init__(self, conn: Any, timeout_s: float, dog: Watchdog) -> None:
        self._conn = conn
        self._dog = dog
        self.fd = -1
        self.timeout_s = timeout_s
        self.deadline = 0.0
        self.done = False
        self.fired = False

    def __enter__(self) -> Guard:
        self.fd = self._conn.fileno()
        self.deadline = time.monotonic() + self.timeout_s
        self._dog._add(self)
        return self

    def __exit__(self, *_: object) -> None:
        self._dog._finish(self)
        conn = self._conn
        if self.fired and not conn.closed:
            conn.close()  # the call finished as its socket was shut: never hand that connection out again


class Watchdog:
    """Drops the connection of a guarded call that outlives its deadline; see the module docstring.

    Example:
        >>> Watchdog().pending()
        0
    """

    def __init__(self) -> None:
        # A plain lock under the condition (not the default re-entrant one): nothing re-enters it, and it is
        # taken twice on every adapter call, directly (Condition's own __enter__ and __exit__ are Python calls).
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Guard]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._finished_in_heap = 0

    def guard(self, conn: Any, *, timeout_s: float) -> contextlib.AbstractContextManager[Guard | None]:
        """Guard the work in the block on ``conn`` (None and no guard when ``timeout_s`` is 0 or less).

        Example:
            >>> with Watchdog().guard(None, timeout_s=0) as g:
            ...     g is None
            True
        """
        if timeout_s <= 0:
            return _NO_GUARD
        return Guard(conn, timeout_s, self)

    def _add(self, g: Guard) -> None:
        with self._lock:
            heapq.heappush(self._heap, (g.deadline, next(self._seq), g))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="okai-insight-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is g:
                self._cond.notify()

    def _finish(self, g: Guard) -> None:
        with self._lock:
            g.done = True
            self._finished_in_heap += 1
            if self._finished_in_heap > 1024 and 2 * self._finished_in_heap > len(self._heap):
                # Finished calls leave the heap when their deadline comes up; under many fast calls, sweep
                # them out so the heap stays the size of the calls in flight.
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished_in_heap = 0

    def pending(self) -> int:
        """Guarded calls not yet finished (for tests and diagnostics)."""
        with self._cond:
            return sum(1 for _, _, g in self._heap if not g.done)

    def _loop(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                    self._finished_in_heap = max(0, self._finished_in_heap - 1)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, g = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                g.fired = True
                _shut(g.fd)  # under the lock: the call cannot finish (and its fd be reused) meanwhile


def _shut(fd: int) -> None:
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    with sock:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_NO_GUARD: contextlib.nullcontext[None] = contextlib.nullcontext()

#: The process's one watchdog thread, started by the first guarded call.
WATCHDOG = Watchdog()

__all__ = ["WATCHDOG", "Guard", "Watchdog"]
