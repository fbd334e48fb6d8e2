"""Imports deferred to first use, so ``from crps_evidence import notebook`` stays light.

scipy costs more to import than the rest of a notebook's first cell and is
needed only when something is actually pooled. A module proxy or a function stub stands in
for it and imports the real thing the first time it is used.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_function", "lazy_module"]


class _LazyModule(types.ModuleType):
    """Stands for module ``__name__``; the first attribute access imports it."""

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)  # later lookups skip __getattr__
        return getattr(module, attribute)


def lazy_module(name: str) -> types.ModuleType:
    """A stand-in for module ``name`` that imports it on first attribute access.

    Examples
    --------
    >>> json = lazy_module("json")
    >>> json.dumps([1])
    '[1]'
    """
    return _LazyModule(name)


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for ``module.name`` that imports ``module`` when first called.

    Examples
    --------
    >>> dumps = lazy_function("json", "dumps")
    >>> dumps({"a": 1})
    '{"a": 1}'
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{module}.{name}``, imported when first called."
    return call
