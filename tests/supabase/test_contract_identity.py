"""The contract suite's "supabase" entry acts as one authenticated user with row level security enforced."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from okai_insight.errors import PermissionDenied
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings
from tests.contract._helpers import IDENTITIES, admin, as_user, identity, me
from tests.contract.conftest import ADAPTER_FACTORIES, DIM, FactoryContext


def test_contract_supabase_is_an_authenticated_user_under_rls(make_database, tmp_path: Path):
    ctx = FactoryContext(make_database, tmp_path, Settings.from_env({}, pool_max_size=2, pool_min_size=1))
    db = ADAPTER_FACTORIES["supabase"](ctx)
    try:
        who = identity(db)
        assert who is not None and db.role == "authenticated" and db.user_id == who.user_id
        user = me(db)
        stranger = uuid.uuid4()
        assert db.create_account(Account(id=stranger, name="Stranger", email=f"{stranger}@example.org"))
        room = db.create_room()
        db.add_participant(user, room)
        v = np.ones(DIM, dtype=np.float32)
        with pytest.raises(PermissionDenied):  # a memory of neither the acting user nor its agent
            db.create_memory(Memory(room_id=room, user_id=stranger, content={"text": "x"}, embedding=v), "messages")
        with pytest.raises(PermissionDenied):  # the stranger takes no part in the room
            as_user(db, stranger).create_memory(
                Memory(room_id=room, user_id=stranger, content={"text": "planted"}, embedding=v), "messages"
            )
        their_room = as_user(db, stranger).create_room()
        as_user(db, stranger).add_participant(stranger, their_room)
        theirs = as_user(db, stranger).create_memory(
            Memory(room_id=their_room, user_id=stranger, content={"text": "theirs"}, embedding=v), "messages"
        )
        assert db.get_memory_by_id(theirs) is None
        assert admin(db).get_memory_by_id(theirs) is not None  # the setup-only service_role sees every row
    finally:
        IDENTITIES.pop(id(db)).close()
        db.close()
