"""Encryption of sensitive memory content fields at rest, with key identifiers and batched key rotation.

Encryption happens in the client (AES-256-GCM, the ``cryptography`` package): keys never reach the server, its
logs or its backups. A field of ``content`` (by default ``text``) is replaced by an envelope::

    {"$okai_enc": 1, "kid": "2025-06", "nonce": "<base64>", "ct": "<base64>"}

The memory's id and the field name are the AES-GCM associated data, so an envelope copied to another row or
field fails to decrypt instead of showing the wrong text. A :class:`Keyring` holds keys by id and names the
current one; :func:`rotate` re-encrypts every envelope under an older key with the current one, ``batch_size``
rows a short transaction (``FOR UPDATE SKIP LOCKED``), and :func:`key_usage` shows how many fields each key
still protects, so an old key can be retired when its count reaches 0.

What stays in clear: embeddings (they are needed for search, and they do carry meaning), ids, types, times;
``get_cached_embeddings`` (Levenshtein on ``content.text``) cannot match encrypted text.

Example:
    >>> ring = Keyring.generate("k1")
    >>> sealed = encrypt_content({"text": "my PIN is 4321"}, ring, memory_id="0b8f5c1e-4c1a-4d0e-9f57-2f1f3c0c9a11")
    >>> sealed["text"]["kid"], decrypt_content(sealed, ring, memory_id="0b8f5c1e-4c1a-4d0e-9f57-2f1f3c0c9a11")
    ('k1', {'text': 'my PIN is 4321'})
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from okai_insight.errors import ConfigurationError, InvalidInput
from okai_insight.ops._connection import connect
from okai_insight.validation import check_id

MARKER = "$okai_enc"
VERSION = 1


def _aesgcm(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "encryption needs the cryptography package: pip install 'okai-insight[crypto]'"
        ) from exc
    return AESGCM(key)


#: A key id is written in clear into every envelope and printed by ``encrypt``: it must look like a name, not
#: like key material (a 32-byte key is 44 characters of base64 or 64 of hex, and base64 has '+', '/', '=').
_KEY_ID = re.compile(r"[A-Za-z0-9._\-]{1,40}")


def _name(kid: str) -> str:
    """A key id as error messages show it: quoted when it looks like an id, else withheld, because a mistyped
    entry (``base64key`` without ``kid:``) puts the key itself where the id should be.

    Example:
        >>> _name("2025-06"), _name(base64.b64encode(bytes(32)).decode())
        ("key id '2025-06'", 'a key id that looks like key material (not shown)')
    """
    if _KEY_ID.fullmatch(kid):
        return f"key id {kid!r}"
    return "a key id that looks like key material (not shown)"


@dataclass(frozen=True)
class Keyring:
    """Keys by id (32 bytes each, AES-256) and the id of the one new envelopes use.

    Example:
        >>> ring = Keyring({"old": bytes(32), "new": bytes(range(32))}, current="new")
        >>> ring.current
        'new'
    """

    keys: Mapping[str, bytes]
    current: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigurationError("a keyring needs at least one key")
        for kid, key in self.keys.items():
            if not isinstance(kid, str) or not _KEY_ID.fullmatch(kid):
                shown = _name(kid) if isinstance(kid, str) and kid else "an empty key id"
                raise ConfigurationError(
                    f"{shown}: a key id is 1 to 40 letters, digits, '.', '_' or '-' (it is stored in clear)"
                )
            if not isinstance(key, bytes) or len(key) != 32:
                raise ConfigurationError(f"{_name(kid)}: the key must be 32 bytes (AES-256)")
        if self.current not in self.keys:
            raise ConfigurationError(f"the current key ({_name(self.current)}) is not in the keyring")

    @classmethod
    def generate(cls, kid: str) -> Keyring:
        """A keyring with one new random key.

        Example:
            >>> len(Keyring.generate("k1").keys["k1"])
            32
        """
        return cls({kid: os.urandom(32)}, current=kid)

    def with_key(self, kid: str, key: bytes | None = None) -> Keyring:
        """A copy with another key (random unless given) that becomes the current one.

        Example:
            >>> Keyring.generate("k1").with_key("k2").current
            'k2'
        """
        return Keyring({**self.keys, kid: key if key is not None else os.urandom(32)}, current=kid)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Keyring:
        """Read ``OKAI_ENCRYPTION_KEYS`` (``kid:base64key,kid2:base64key``); the last key listed is current unless
        ``OKAI_ENCRYPTION_KEY_ID`` names another.

        Errors name an entry by its position and key id, never by its key (nor by an "id" that is really a key).

        Example:
            >>> key = base64.b64encode(bytes(32)).decode()
            >>> Keyring.from_env({"OKAI_ENCRYPTION_KEYS": f"a:{key},b:{key}"}).current
            'b'
            >>> Keyring.from_env({"OKAI_ENCRYPTION_KEYS": key})
            Traceback (most recent call last):
            okai_insight.errors.ConfigurationError: OKAI_ENCRYPTION_KEYS entry 1 has no key id: write kid:base64key
        """
        env = os.environ if environ is None else environ
        raw = env.get("OKAI_ENCRYPTION_KEYS", "")
        keys: dict[str, bytes] = {}
        for n, part in enumerate(filter(None, (p.strip() for p in raw.split(","))), 1):
            kid, sep, b64 = part.partition(":")
            if not sep or not kid.strip():
                raise ConfigurationError(f"OKAI_ENCRYPTION_KEYS entry {n} has no key id: write kid:base64key")
            kid = kid.strip()
            if not _KEY_ID.fullmatch(kid):
                raise ConfigurationError(
                    f"OKAI_ENCRYPTION_KEYS entry {n}: {_name(kid)}; a key id is 1 to 40 letters, digits, '.', '_' "
                    "or '-'"
                )
            try:
                key = base64.b64decode(b64.strip(), validate=True)
            except ValueError:
                # ``from None``: binascii's message does not quote the input today, but a traceback should not
                # depend on that.
                raise ConfigurationError(
                    f"OKAI_ENCRYPTION_KEYS entry {n} ({_name(kid)}): the key is not valid base64"
                ) from None
            if len(key) != 32:
                raise ConfigurationError(
                    f"OKAI_ENCRYPTION_KEYS entry {n} ({_name(kid)}): the key is {len(key)} bytes, AES-256 needs 32"
                )
            keys[kid] = key
        if not keys:
            raise ConfigurationError("OKAI_ENCRYPTION_KEYS is empty: set kid:base64key[,kid:base64key...]")
        return cls(keys, current=env.get("OKAI_ENCRYPTION_KEY_ID") or list(keys)[-1])


def is_envelope(value: Any) -> bool:
    """True for a value :func:`encrypt_content` wrote.

    Example:
        >>> is_envelope({"$okai_enc": 1, "kid": "k", "nonce": "", "ct": ""}), is_envelope("plain")
        (True, False)
    """
    return isinstance(value, dict) and value.get(MARKER) == VERSION and {"kid", "nonce", "ct"} <= set(value)


def _aad(memory_id: Any, field: str) -> bytes:
    return f"{check_id(memory_id, 'memory_id')}:{field}".encode()


def _seal(value: Any, ring: Keyring, aad: bytes) -> dict[str, Any]:
    nonce = os.urandom(12)
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    ct = _aesgcm(ring.keys[ring.current]).encrypt(nonce, plain, aad)
    return {
        MARKER: VERSION,
        "kid": ring.current,
        "nonce": base64.b64encode(nonce).decode(),
        "ct": base64.b64encode(ct).decode(),
    }


def _open(envelope: Mapping[str, Any], ring: Keyring, aad: bytes) -> Any:
    from cryptography.exceptions import InvalidTag

    kid = envelope["kid"]
    if kid not in ring.keys:
        raise ConfigurationError(f"key {kid!r} is not in the keyring (was it retired too early?)")
    try:
        plain = _aesgcm(ring.keys[kid]).decrypt(
            base64.b64decode(envelope["nonce"]), base64.b64decode(envelope["ct"]), aad
        )
    except InvalidTag as exc:
        raise InvalidInput("an encrypted field does not authenticate (wrong key, row or field, or tampered)") from exc
    return json.loads(plain)


def encrypt_content(
    content: Mapping[str, Any], ring: Keyring, *, memory_id: Any, fields: Sequence[str] = ("text",)
) -> dict[str, Any]:
    """A copy of ``content`` with ``fields`` sealed under the current key (already sealed fields stay as they are).

    Example:
        >>> c = encrypt_content({"text": "hi", "source": "chat"}, Keyring.generate("k"), memory_id=uuid.uuid4())
        >>> sorted(c), c["source"]
        (['source', 'text'], 'chat')
    """
    if isinstance(fields, str) or not fields:
        raise InvalidInput("fields must be a non-empty sequence of content keys")
    out = dict(content)
    for field in fields:
        if field in out and not is_envelope(out[field]):
            out[field] = _seal(out[field], ring, _aad(memory_id, field))
    return out


def decrypt_content(content: Mapping[str, Any], ring: Keyring, *, memory_id: Any) -> dict[str, Any]:
    """A copy of ``content`` with every sealed field opened.

    Example:
        >>> ring, mid = Keyring.generate("k"), uuid.uuid4()
        >>> decrypt_content(encrypt_content({"text": "hi"}, ring, memory_id=mid), ring, memory_id=mid)
        {'text': 'hi'}
    """
    return {k: _open(v, ring, _aad(memory_id, k)) if is_envelope(v) else v for k, v in content.items()}


def _batches(
    url: str, ring: Keyring, fields: Sequence[str], batch_size: int, where: str, params: dict[str, Any]
) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(fields, str) or not fields:
        raise InvalidInput("fields must be a non-empty sequence of content keys")
    changed = 0
    with connect(url) as conn:
        while True:
            with conn.transaction():
                rows = conn.execute(
                    f'SELECT "id", "content" FROM memories WHERE {where} ORDER BY "id" LIMIT %(n)s FOR UPDATE SKIP LOCKED',
                    {**params, "fields": list(fields), "n": batch_size},
                ).fetchall()
                for mid, content in rows:
                    updated = dict(content)
                    for f in fields:  # only the listed fields: other sealed fields stay as they are
                        if f in updated:
                            value = updated[f]
                            plain = _open(value, ring, _aad(mid, f)) if is_envelope(value) else value
                            updated[f] = _seal(plain, ring, _aad(mid, f))
                    conn.execute('UPDATE memories SET "content" = %s WHERE "id" = %s', (Jsonb(updated), mid))
            changed += len(rows)
            if len(rows) < batch_size:
                return changed


#: Rows with a listed field still in clear.
_PLAIN = (
    "EXISTS (SELECT 1 FROM unnest(%(fields)s::text[]) AS f(name) "
    'WHERE "content" ? f.name AND ("content" -> f.name ->> \'$okai_enc\') IS NULL)'
)
#: Rows with a listed field sealed under a key other than the current one.
_STALE = (
    "EXISTS (SELECT 1 FROM unnest(%(fields)s::text[]) AS f(name) "
    "WHERE \"content\" -> f.name ->> '$okai_enc' IS NOT NULL AND \"content\" -> f.name ->> 'kid' <> %(kid)s)"
)


def encrypt_existing(url: str, ring: Keyring, *, fields: Sequence[str] = ("text",), batch_size: int = 500) -> int:
    """Seal ``fields`` of every memory that still holds them in clear, in batches; returns the rows changed.

    Example:
        >>> encrypt_existing(url, Keyring.from_env())                     # doctest: +SKIP
        2000
    """
    return _batches(url, ring, fields, batch_size, _PLAIN, {})


def rotate(url: str, ring: Keyring, *, fields: Sequence[str] = ("text",), batch_size: int = 500) -> int:
    """Re-encrypt every field sealed under an older key with ``ring.current``, in batches; returns rows changed.

    The keyring must still hold the old keys. Safe to interrupt and re-run: each batch commits on its own and
    rows already under the current key are not selected again.

    Example:
        >>> rotate(url, ring.with_key("2025-07"))                        # doctest: +SKIP
        2000
    """
    return _batches(url, ring, fields, batch_size, _STALE, {"kid": ring.current})


#: What ``encrypt seal`` leaves behind, said after every seal (and in docs/operations.md).
SEAL_LEFTOVERS = (
    "the old plaintext is still on disk: in the dead row versions of memories until VACUUM FULL rewrites the "
    "table, in WAL until its segments are recycled (and in WAL archives, replicas and backups taken before). "
    "Run `okai-insight encrypt seal --vacuum-full` (or VACUUM (FULL) memories; CHECKPOINT) in a quiet moment: "
    "it locks the table while it rewrites it"
)


def vacuum_full(url: str, *, lock_timeout_ms: int = 5_000, statement_timeout_ms: int = 3_600_000) -> bool:
    """Rewrite ``memories`` (``VACUUM (FULL, ANALYZE)``) so the dead row versions that still hold plaintext after
    :func:`encrypt_existing` are gone, then ``CHECKPOINT`` so WAL holding it can be recycled sooner. Returns
    whether the checkpoint ran (it needs superuser or ``pg_checkpoint``; without it WAL recycles on the server's
    own schedule).

    VACUUM FULL takes an ACCESS EXCLUSIVE lock for the rewrite: ``lock_timeout_ms`` bounds the wait for it (so
    it never queues every reader behind a long transaction), ``statement_timeout_ms`` the rewrite itself.

    Example:
        >>> vacuum_full(url)                                              # doctest: +SKIP
        True
    """
    with connect(url) as conn:
        conn.autocommit = True  # VACUUM cannot run inside a transaction block
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (str(int(lock_timeout_ms)),))
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(int(statement_timeout_ms)),))
        conn.execute("VACUUM (FULL, ANALYZE) memories")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            return False
    return True


def key_usage(url: str, *, fields: Sequence[str] = ("text",)) -> dict[str, int]:
    """How many sealed fields each key id protects (``"(clear)"``: fields still in clear).

    Example:
        >>> key_usage(url)                                                # doctest: +SKIP
        {'2025-06': 0, '2025-07': 2000}
    """
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT coalesce(\"content\" -> f.name ->> 'kid', '(clear)'), count(*) "
            'FROM memories CROSS JOIN unnest(%s::text[]) AS f(name) WHERE "content" ? f.name '
            "GROUP BY 1 ORDER BY 1",
            (list(fields),),
        ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def new_memory_id() -> uuid.UUID:
    """An id to give a memory before sealing its content (the id is part of the associated data).

    Example:
        >>> new_memory_id().version
        4
    """
    return uuid.uuid4()
