"""Client-side encryption of content fields: envelopes, tamper detection, batched sealing and key rotation."""

from __future__ import annotations

import base64
import uuid

import psycopg
import pytest

from okai_insight.errors import ConfigurationError, InvalidInput
from okai_insight.ops.encryption import (
    Keyring,
    decrypt_content,
    encrypt_content,
    encrypt_existing,
    is_envelope,
    key_usage,
    rotate,
)
from tests.ops._data import populate


def test_envelopes_round_trip_and_are_bound_to_their_row_and_field():
    ring, mid = Keyring.generate("k1"), uuid.uuid4()
    sealed = encrypt_content({"text": "secret", "n": 3, "source": "chat"}, ring, memory_id=mid, fields=("text", "n"))
    assert is_envelope(sealed["text"]) and is_envelope(sealed["n"]) and sealed["source"] == "chat"
    assert "secret" not in str(sealed)
    assert decrypt_content(sealed, ring, memory_id=mid) == {"text": "secret", "n": 3, "source": "chat"}
    with pytest.raises(InvalidInput, match="does not authenticate"):
        decrypt_content(sealed, ring, memory_id=uuid.uuid4())  # copied to another row
    with pytest.raises(InvalidInput, match="does not authenticate"):
        decrypt_content({"other": sealed["text"]}, ring, memory_id=mid)  # moved to another field
    with pytest.raises(ConfigurationError, match="not in the keyring"):
        decrypt_content(sealed, Keyring.generate("k2"), memory_id=mid)
    again = encrypt_content(sealed, ring, memory_id=mid)
    assert again["text"] == sealed["text"]  # already sealed: left alone


def test_keyring_validation_and_environment():
    key = base64.b64encode(bytes(32)).decode()
    assert Keyring.from_env({"OKAI_ENCRYPTION_KEYS": f"a:{key},b:{key}", "OKAI_ENCRYPTION_KEY_ID": "a"}).current == "a"
    for bad in ({"OKAI_ENCRYPTION_KEYS": ""}, {"OKAI_ENCRYPTION_KEYS": "a:not-base64!"}):
        with pytest.raises(ConfigurationError):
            Keyring.from_env(bad)
    with pytest.raises(ConfigurationError):
        Keyring({"a": b"short"}, current="a")
    with pytest.raises(ConfigurationError):
        Keyring({"a": bytes(32)}, current="b")


def test_existing_rows_are_sealed_then_rotated_in_batches(make_database):
    url = populate(make_database("crypt"), memories=50).url
    with psycopg.connect(url) as conn:
        before = dict(conn.execute('SELECT "id", "content" FROM memories').fetchall())
    ring = Keyring.generate("2025-06")
    assert encrypt_existing(url, ring, batch_size=7) == 50
    assert key_usage(url) == {"2025-06": 50}
    assert encrypt_existing(url, ring, batch_size=7) == 0  # nothing left in clear
    with psycopg.connect(url) as conn:
        stored = dict(conn.execute('SELECT "id", "content" FROM memories').fetchall())
        assert conn.execute("SELECT count(*) FROM memories WHERE content::text LIKE '%%memory %%'").fetchone() == (0,)
    assert {mid: decrypt_content(c, ring, memory_id=mid) for mid, c in stored.items()} == before

    newer = ring.with_key("2025-07")
    assert rotate(url, newer, batch_size=20) == 50
    assert key_usage(url) == {"2025-07": 50}
    assert rotate(url, newer, batch_size=20) == 0
    with psycopg.connect(url) as conn:
        stored = dict(conn.execute('SELECT "id", "content" FROM memories').fetchall())
    only_new = Keyring({"2025-07": newer.keys["2025-07"]}, current="2025-07")  # the old key can be retired
    assert {mid: decrypt_content(c, only_new, memory_id=mid) for mid, c in stored.items()} == before
    with pytest.raises(InvalidInput):
        rotate(url, newer, batch_size=0)


def test_cli_seals_rotates_and_reports(make_database, monkeypatch, capsys):
    from okai_insight.cli import main

    url = populate(make_database("cryptcli"), memories=10).url
    k1, k2 = (base64.b64encode(bytes([i]) * 32).decode() for i in (1, 2))
    monkeypatch.setenv("OKAI_ENCRYPTION_KEYS", f"k1:{k1}")
    assert main(["encrypt", "seal", url]) == 0
    assert "sealed 10 rows" in capsys.readouterr().out
    monkeypatch.setenv("OKAI_ENCRYPTION_KEYS", f"k1:{k1},k2:{k2}")
    assert main(["encrypt", "rotate", url, "--batch-size", "3"]) == 0
    assert "re-encrypted 10 rows under key k2" in capsys.readouterr().out
    assert key_usage(url) == {"k2": 10}
    monkeypatch.setenv("OKAI_ENCRYPTION_KEYS", "")
    assert main(["encrypt", "usage", url]) == 2  # no keys configured: a one-line ConfigurationError (bad input)
