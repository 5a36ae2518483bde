"""The local Citus cluster helper (okai_insight/citus/): built once and cached, a coordinator and two workers on
local ports, registered, and back after a crash or a clean restart. Real nodes, no mocks."""

from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest

from okai_insight.citus import CitusCluster, build_key, citus_install, pginstall
from okai_insight.embedded import _running_postmaster
from okai_insight.errors import InvalidInput


def _workers(url: str) -> list[int]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        return sorted(int(port) for _, port in conn.execute("SELECT * FROM citus_get_active_worker_nodes()"))


def test_the_coordinator_has_both_workers_registered(citus_cluster: CitusCluster) -> None:
    coordinator, *workers = citus_cluster.nodes
    assert [n.name for n in citus_cluster.nodes] == ["coordinator", "worker1", "worker2"]
    assert len({coordinator.port, *(w.port for w in workers)}) == 3
    assert _workers(citus_cluster.coordinator_url) == sorted(w.port for w in workers)
    for url in citus_cluster.worker_urls:
        with psycopg.connect(url, connect_timeout=10) as conn:
            names = {n for (n,) in conn.execute("SELECT extname FROM pg_extension")}
            assert {"citus", "vector"} <= names
            assert conn.execute("SELECT citus_is_coordinator()").fetchone() == (False,)


def test_the_build_is_cached_by_archive_and_wheel(citus_cluster: CitusCluster) -> None:
    root = citus_install(citus_cluster.cache_dir)  # the session's build: found, not rebuilt
    assert root.name == build_key()
    assert (pginstall(root) / "lib" / "citus.so").is_file()
    assert (pginstall(root) / "lib" / "vector.so").is_file()
    assert not (root / "src").exists()  # the sources and objects are not kept


def test_a_module_database_is_distributed_ready(citus_url: str) -> None:
    with psycopg.connect(citus_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE TABLE t (agent uuid, id int, v vector(3))")
        conn.execute("SELECT create_distributed_table('t', 'agent')")
        conn.execute("CREATE INDEX ON t USING hnsw (v vector_cosine_ops)")
        (shards,) = conn.execute("SELECT count(*) FROM citus_shards WHERE table_name = 't'::regclass").fetchone()
        (nodes,) = conn.execute(
            "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 't'::regclass"
        ).fetchone()
    assert (shards, nodes) == (4, 2)  # the cluster's shard count, spread over both workers


def test_bad_arguments_are_refused_before_anything_starts(tmp_path: object) -> None:
    with pytest.raises(InvalidInput, match="workers"):
        CitusCluster("/tmp/okai-citus-never", workers=0)
    with pytest.raises(InvalidInput, match="shard_count"):
        CitusCluster("/tmp/okai-citus-never", shard_count=0)


def test_a_killed_worker_and_a_clean_restart_come_back(citus_cluster: CitusCluster) -> None:
    worker = citus_cluster.nodes[2]
    info = _running_postmaster(worker.data_dir)
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)  # no shutdown: postmaster.pid and the socket lock stay behind
    deadline = time.monotonic() + 30
    while _running_postmaster(worker.data_dir) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert citus_cluster.running()["worker2"] is False
    urls = (citus_cluster.coordinator_url, citus_cluster.worker_urls)
    citus_cluster.start()  # clears the stale lock, restarts the worker, finds the nodes registered
    assert citus_cluster.running() == {"coordinator": True, "worker1": True, "worker2": True}
    CitusCluster(citus_cluster.root, workers=2).stop()  # a new handle (another process) stops it too
    assert set(citus_cluster.running().values()) == {False}
    citus_cluster.start()  # same ports: the coordinator's metadata names the workers by port
    assert (citus_cluster.coordinator_url, citus_cluster.worker_urls) == urls
    assert len(_workers(citus_cluster.coordinator_url)) == 2
