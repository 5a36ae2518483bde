"""The Supabase adapter: one ``supabase://`` entry point, two transports with the same row level security.

* **REST** (``supabase://<project>.supabase.co`` or ``supabase://`` with ``SUPABASE_URL`` + ``SUPABASE_KEY``, the
  spec's connection configuration): the official ``supabase`` client against PostgREST, authenticated as the key or
  a user's JWT (``?access_token=`` or ``SUPABASE_ACCESS_TOKEN``). See :class:`SupabaseRestAdapter`.
* **Direct** (``supabase+postgresql://user:pw@db.<project>.supabase.co:5432/postgres?user_id=<uuid>``): a
  PostgreSQL connection that acts as ``authenticated`` with the user's JWT claims in every transaction, or as
  ``service_role`` (``?role=service_role``). See :class:`SupabaseDirectAdapter`.

Both need okai-insight's Supabase migration (``python -m okai_insight.schema.supabase``; docs/supabase.md).

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect("supabase://")   # SUPABASE_URL, SUPABASE_KEY       # doctest: +SKIP
    >>> db.transport                                                                   # doctest: +SKIP
    'rest'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit, urlunsplit

from okai_insight.adapters._supabase_base import SupabaseAdapter
from okai_insight.adapters._supabase_direct import SupabaseDirectAdapter
from okai_insight.adapters._supabase_rest import SupabaseRestAdapter
from okai_insight.errors import ConfigurationError
from okai_insight.settings import Settings

SCHEMES = ("supabase://", "supabase+postgresql://", "supabase+postgres://")


def open_supabase(
    url: str,
    *,
    settings: Settings | None = None,
    dimension: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> SupabaseAdapter:
    """The Supabase adapter for a ``supabase://`` or ``supabase+postgresql://`` URL (not yet initialised).

    Example:
        >>> db = open_supabase("supabase://xyz.supabase.co?key=eyJ...")
        >>> db.url
        'https://xyz.supabase.co'
    """
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme in ("supabase+postgresql", "supabase+postgres"):
        user_id = query.pop("user_id", None)
        role = query.pop("role", "authenticated")
        rest = "&".join(f"{k}={v}" for k, v in query.items())
        pg_url = urlunsplit(("postgresql", parts.netloc, parts.path, rest, parts.fragment))
        return SupabaseDirectAdapter(pg_url, user_id=user_id, role=role, settings=settings, dimension=dimension)
    if parts.scheme != "supabase":
        raise ConfigurationError(f"not a Supabase URL: {url!r} (use supabase:// or supabase+postgresql://)")
    if parts.netloc:
        scheme = query.get("scheme", "https")
        if scheme not in ("https", "http"):
            raise ConfigurationError(f"scheme must be https or http, got {scheme!r}")
        base = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    else:
        base = env.get("SUPABASE_URL", "")
        if not base:
            raise ConfigurationError(
                "supabase:// without a host needs SUPABASE_URL (and SUPABASE_KEY) in the environment"
            )
    key = query.get("key") or env.get("SUPABASE_KEY", "")
    token = query.get("access_token") or env.get("SUPABASE_ACCESS_TOKEN") or None
    return SupabaseRestAdapter(base, key=key, access_token=token, settings=settings, dimension=dimension)


__all__ = ["SCHEMES", "SupabaseAdapter", "SupabaseDirectAdapter", "SupabaseRestAdapter", "open_supabase"]
