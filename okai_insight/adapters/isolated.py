"""The PostgreSQL adapter acting for one user under row level security keyed on ``okai.user_id``.

``okai_insight.ops.security.enable_isolation`` installs the policy (``okai_uid()`` reads ``okai.user_id``) and
``create_roles`` the role; this adapter is the data-layer half: every transaction it opens sets the role and the
user, so one pool can serve many users. It is re-exported from ``okai_insight.ops.security`` (its documented home).

Example:
    >>> from okai_insight.adapters.isolated import IsolatedPostgresAdapter
    >>> db = IsolatedPostgresAdapter(url, user_id=alice)              # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from okai_insight.adapters._scoped import ScopedPostgresAdapter
from okai_insight.errors import InvalidInput
from okai_insight.settings import Settings
from okai_insight.validation import check_id

#: The spec's application role (``okai_insight.ops.security.create_roles`` creates it).
APP_ROLE = "app_user"


def check_role_name(name: Any) -> str:
    """``name`` if it is a plain identifier PostgreSQL accepts as a role name, else :class:`InvalidInput`.

    Example:
        >>> check_role_name("app_user")
        'app_user'
        >>> check_role_name("app; DROP TABLE memories")
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: role name must be a plain identifier, got 'app; DROP TABLE memories'
    """
    if not isinstance(name, str) or not name.isidentifier() or len(name) > 63:
        raise InvalidInput(f"role name must be a plain identifier, got {name!r}")
    return name


class IsolatedPostgresAdapter(ScopedPostgresAdapter):
    """The PostgreSQL adapter acting for one user under row level security: every transaction starts with
    ``SET LOCAL ROLE <role>`` and ``okai.user_id = <user>``.

    Example:
        >>> db = IsolatedPostgresAdapter(url, user_id=alice)              # doctest: +SKIP
        >>> db.init(); db.get_memory_by_id(bobs_memory) is None            # doctest: +SKIP
        True
    """

    def __init__(
        self, url: str, *, user_id: Any, role: str = APP_ROLE, settings: Settings | None = None, **kwargs: Any
    ) -> None:
        super().__init__(url, settings=settings, **kwargs)
        self.user_id = check_id(user_id, "user_id")
        self.role = check_role_name(role)

    def _scope(self) -> dict[str, str]:
        return {"okai.user_id": str(self.user_id)}
