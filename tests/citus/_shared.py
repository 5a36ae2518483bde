"""One local Citus cluster per test session (coordinator + 2 workers), shared by tests/citus/ and the contract
suite's ``citus`` factory.

Both need the same cluster, and a session fixture defined in two conftest files would be two fixtures (two
clusters), so the cluster lives here, started on first use and stopped when pytest ends (``config.add_cleanup``).
The Citus build is cached across sessions: ``$OKAI_CITUS_CACHE``, else pytest's cache directory (``.pytest_cache``,
kept between CI runs), else next to the session's basetemp (its parent persists when pytest runs without its cache
plugin).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from okai_insight.citus import CitusCluster

_CLUSTER: dict[str, CitusCluster] = {}


def build_cache(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session caches the Citus build (see the module docstring)."""
    given = os.environ.get("OKAI_CITUS_CACHE")
    if given:
        return Path(given)
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("okai-citus"))
    return tmp_path_factory.getbasetemp().parent / "okai-citus-cache"


def session_cluster(request: pytest.FixtureRequest) -> CitusCluster:
    """The session's cluster, started on first use."""
    cluster = _CLUSTER.get("session")
    if cluster is None:
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        root = factory.mktemp("citus")
        cluster = CitusCluster(root, workers=2, cache_dir=build_cache(request.config, factory), shard_count=4)
        # Registered before start(): a start that fails half way still stops the nodes it started.
        request.config.add_cleanup(lambda: cluster.stop(mode="immediate"))
        cluster.start()
        _CLUSTER["session"] = cluster
    return cluster
