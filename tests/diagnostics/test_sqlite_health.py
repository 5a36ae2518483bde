"""okai-insight doctor sqlite:///x.db runs the SQLite store's own health check (issue 15 item 7) on a real
sqlite-vec file: a clean store has no finding; a vec0 row deleted behind the adapter's back and a second embedding
dimension are each found, by id / count; the check writes nothing.

Before: doctor on a sqlite:/// URL exited 4 ("doctor needs PostgreSQL") and no sqlite_health existed.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

import okai_insight
from okai_insight.adapters._sqlite_driver import open_connection
from okai_insight.cli import main
from okai_insight.diagnostics.sqlite_health import sqlite_health
from okai_insight.models import Memory

DIM = 8


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, list[uuid.UUID]]:
    url = f"sqlite:///{tmp_path / 'agent.db'}"
    rng = np.random.default_rng(0)
    with okai_insight.connect(url, dimension=DIM) as db:
        room = db.create_room()
        ids = [
            db.create_memory(
                Memory(room_id=room, content={"text": f"m{i}"}, embedding=rng.normal(size=DIM).astype(np.float32)),
                "messages",
            )
            for i in range(12)
        ]
    return url, ids


def _behind_the_adapters_back(url: str, *statements: str) -> None:
    conn = open_connection(url.removeprefix("sqlite:///"))
    try:
        for s in statements:
            conn.run(s)
    finally:
        conn.close()


def test_clean_store_has_no_finding_and_doctor_exits_0(store):
    url, _ = store
    path = Path(url.removeprefix("sqlite:///"))
    before = path.read_bytes()
    r = sqlite_health(url)
    assert r.findings == []
    assert {row["check"]: row["value"] for row in r.rows}["vec0_rows"] == 12
    assert main(["doctor", url]) == 0
    assert path.read_bytes() == before


def test_a_vec0_row_deleted_behind_the_adapter_is_found(store, capsys):
    url, ids = store
    _behind_the_adapters_back(url, f"DELETE FROM vec_memories WHERE id = '{ids[3]}'")
    r = sqlite_health(url)
    assert [f.severity for f in r.findings] == ["critical"]
    assert "11 vec0 rows for 12 memories" in r.findings[0].message and str(ids[3]) in r.findings[0].message
    capsys.readouterr()
    assert main(["doctor", url]) == 1
    assert "out of step" in capsys.readouterr().out


def test_a_dimension_mix_is_found(store):
    url, _ = store
    with okai_insight.connect(url) as db:
        room = db.create_room()
    odd = np.ones(DIM + 4, dtype="<f4").tobytes()
    # A second model's 12-dimension vector, written past the CHECK and the vec0 trigger (which would refuse it).
    _behind_the_adapters_back(
        url,
        "PRAGMA ignore_check_constraints = ON",
        "DROP TRIGGER vec_memories_insert",
        'INSERT INTO memories ("id", "type", "content", "embedding", "roomId") '
        f"VALUES ('{uuid.uuid4()}', 'messages', '{{}}', x'{odd.hex()}', '{room}')",
    )
    r = sqlite_health(url)
    dims = [f for f in r.findings if "2 dimensions" in f.message]
    assert len(dims) == 1 and dims[0].severity == "critical" and "1 of 12" in dims[0].message


def test_memory_url_and_missing_file_are_refused(tmp_path, capsys):
    assert main(["doctor", "memory://"]) not in (0, 1)  # the unsupported-database status (cli owns its number)
    assert "in-memory store" in capsys.readouterr().err
    assert main(["doctor", f"sqlite:///{tmp_path / 'none.db'}"]) not in (0, 1)
    assert "no SQLite file" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
