"""Connecting has a total deadline, and idle connections close as the settings document (issue 19 item 5)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.errors import DatabaseUnavailable
from okai_insight.settings import Settings


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that completes the TCP handshake (the kernel's backlog) and never answers: a frozen postmaster."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_a_silent_server_fails_within_the_connect_deadline(silent_server):
    # Before: every attempt waited its full connect timeout, 4 attempts x 2 s plus backoff = 8.3 s.
    settings = Settings.from_env({}, connect_timeout_s=2.0, connect_deadline_s=3.0, retry_attempts=3)
    db = PostgresAdapter(f"postgresql://u@127.0.0.1:{silent_server}/db", settings=settings)
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as info:
        db.init()
    elapsed = time.monotonic() - started
    db.close()
    assert elapsed < settings.connect_deadline_s + 0.5, elapsed
    assert info.value.reason == "timeout" and "connect_deadline_s is 3 s" in str(info.value)


def test_idle_connections_close_one_per_interval_down_to_the_minimum(pg_url):
    settings = Settings.from_env({}, pool_min_size=1, pool_max_size=4, pool_idle_timeout_s=1.0)
    db = PostgresAdapter(pg_url, settings=settings, dimension=3)
    db.init()
    try:
        barrier = threading.Barrier(4)

        def hold() -> None:
            with db.pool.connection():
                barrier.wait(timeout=10)

        threads = [threading.Thread(target=hold) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        assert db.pool.get_stats()["pool_size"] == 4
        idle_since = time.monotonic()
        sizes = []
        while time.monotonic() - idle_since < 6.0:
            sizes.append(db.pool.get_stats()["pool_size"])
            time.sleep(0.1)
        # Never all at once: the pool shrinks by one connection per check, and stops at pool_min_size.
        assert all(a - b <= 1 for a, b in itertools.pairwise(sizes)), sizes
        assert sizes[-1] == settings.pool_min_size and len(set(sizes)) >= 3, sizes
    finally:
        db.close()


def test_the_pool_lends_the_most_recently_returned_connection_first(pg_url):
    """Last in, first out: calls one after another keep using one warm connection (its backend's caches and
    prepared statements) instead of taking turns over every connection the pool ever opened."""
    settings = Settings.from_env({}, pool_min_size=3, pool_max_size=3, pool_idle_timeout_s=600.0)
    db = PostgresAdapter(pg_url, settings=settings, dimension=3)
    db.init()
    try:
        db.pool.wait(timeout=10)
        pids = {}
        with db.pool.connection() as a, db.pool.connection() as b, db.pool.connection() as c:
            for name, conn in (("a", a), ("b", b), ("c", c)):
                pids[name] = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        # returned c, then b, then a (the with statement exits innermost first): a came back last
        lent = []
        for _ in range(5):
            with db.pool.connection() as conn:
                lent.append(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
        assert lent == [pids["a"]] * 5, (lent, pids)
        # every adapter call borrows the same way
        backends = {db._run(lambda conn, _: conn.execute("SELECT pg_backend_pid()").fetchone()[0]) for _ in range(5)}
        assert backends == {pids["a"]}
    finally:
        db.close()
