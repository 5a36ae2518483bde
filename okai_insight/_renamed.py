"""Old public names that were renamed (issue 13: one name, one meaning) keep working for one release, with a warning.

A package's ``__init__`` sets ``__getattr__ = renamed(__name__, {"Old": ("New", New)})``; Python calls a module's
``__getattr__`` only for names it does not define, so the old name resolves to the new object and warns, while
the new name costs nothing. Old names are left out of ``__all__`` so ``import *`` does not warn.

Example:
    >>> import warnings
    >>> getattr_ = renamed("pkg", {"Old": ("New", int)})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     getattr_("Old") is int, str(caught[0].message)
    (True, 'pkg.Old is renamed pkg.New; the old name goes in the next release')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping


def renamed(module: str, names: Mapping[str, tuple[str, object]]) -> Callable[[str], object]:
    """A module ``__getattr__`` that resolves each old name to its new object with a ``DeprecationWarning``.

    Example:
        >>> renamed("pkg", {})("missing")
        Traceback (most recent call last):
        ...
        AttributeError: module 'pkg' has no attribute 'missing'
    """

    def __getattr__(name: str) -> object:
        if name in names:
            new_name, value = names[name]
            warnings.warn(
                f"{module}.{name} is renamed {module}.{new_name}; the old name goes in the next release",
                DeprecationWarning,
                stacklevel=2,
            )
            return value
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
