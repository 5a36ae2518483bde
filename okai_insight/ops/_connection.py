"""The one way ops opens a PostgreSQL connection: the settings' connect timeout, TCP keepalives and
``tcp_user_timeout`` (the adapter's own parameters, ``adapters/_pg_connect.connection_kwargs``), driver errors
through the package's error table, and no password in any error.

Example:
    >>> conn = connect("postgresql://postgres@/okai?host=/tmp/pg", autocommit=True)    # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import psycopg

from okai_insight._postgres_only import require_postgres
from okai_insight._redact import MASK, redact
from okai_insight.adapters._pg_connect import connection_kwargs
from okai_insight.errors import OkaiError, translate_pg_errors
from okai_insight.settings import Settings


def connect(
    url: str,
    *,
    settings: Settings | None = None,
    autocommit: bool = False,
    statement_timeout_s: float | None = None,
    vectors: bool = False,
) -> psycopg.Connection[Any]:
    """A connection to ``url`` honouring ``settings`` (default: the environment's, ``OKAI_CONNECT_TIMEOUT_S`` ...).

    ``statement_timeout_s`` makes the server cancel any statement running longer (a bounded operation such as a
    backup's checks); ``vectors`` registers pgvector's types on the connection. A failure raises the okai error
    (:class:`~okai_insight.errors.ConnectionFailed` for an unreachable server) with the password masked.

    Example:
        >>> connect("postgresql://u:pw@127.0.0.1:1/x", settings=Settings(connect_timeout_s=1))  # doctest: +SKIP
        Traceback (most recent call last):
        okai_insight.errors.ConnectionFailed: connecting: connection to server ... failed: Connection refused
    """
    require_postgres(url, "this operation")  # before libpq, which would misread sqlite:///x.db as a keyword string
    s = settings or Settings.from_env()
    try:
        with translate_pg_errors("connecting"):
            conn = psycopg.connect(url, **connection_kwargs(url, s, autocommit=autocommit))
            try:
                if statement_timeout_s is not None:
                    conn.execute(
                        "SELECT set_config('statement_timeout', %s, false)", (f"{int(statement_timeout_s * 1000)}ms",)
                    )
                if vectors:
                    from pgvector.psycopg import register_vector

                    register_vector(conn)
            except BaseException:
                conn.close()
                raise
    except OkaiError as exc:
        # not chained: the driver's message (and so the traceback) may quote the URL
        raise type(exc)(_masked(str(exc), url)) from None
    return conn


def _masked(text: str, url: str) -> str:
    from okai_insight.ops._client_tools import split_password

    _dsn, password = split_password(url)
    text = redact(text)
    return text.replace(password, MASK) if password else text


__all__ = ["connect"]
