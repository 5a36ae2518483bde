"""Fixtures for the Citus tests: the session's local cluster and a database of each test module's own on it."""

from __future__ import annotations

import uuid

import pytest

from okai_insight.citus import CitusCluster
from tests.citus._shared import session_cluster

#: pytest-timeout counts fixture setup: whichever test first asks for the cluster pays for building Citus (1-3 min
#: on 2 idle cores, 8 min seen on this loaded machine) and starting three nodes.
CLUSTER_TIMEOUT_S = 1200


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test here needs the cluster: marked so `-m citus` selects (or `-m "not citus"` skips) them, while the
    # default run (make test, CI) includes them.
    for item in items:
        if "tests/citus/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.citus)
            item.add_marker(pytest.mark.timeout(CLUSTER_TIMEOUT_S))


@pytest.fixture(scope="session")
def citus_cluster(request: pytest.FixtureRequest) -> CitusCluster:
    """The session's coordinator + 2 workers (4 shards a distributed table)."""
    return session_cluster(request)


@pytest.fixture(scope="module")
def citus_url(citus_cluster: CitusCluster, request: pytest.FixtureRequest) -> str:
    """A database of this test module's own on the cluster (citus and vector in it, workers registered)."""
    name = request.module.__name__.rsplit(".", 1)[-1][:20] + "_" + uuid.uuid4().hex[:8]
    return citus_cluster.create_database(name)
