"""Remember a result computed from a loaded Evidence object, for the next call with that object.

Pages, handouts and the index ask for the same headline ratings and summary of findings many
times in one run. The last object is kept with its result (so its id cannot be reused by
another object); a new load of the data is a new object and is computed afresh. Changing a
table of a loaded object in place is not noticed: load the data again instead.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def per_evidence(function: Callable[..., T]) -> Callable[..., T]:
    """Decorate ``function(evidence)`` to compute once per Evidence object (a copy is returned).

    >>> calls = []
    >>> @per_evidence
    ... def count(evidence):
    ...     calls.append(1)
    ...     return [len(evidence)]
    >>> data = ("a", "b")
    >>> count(data), count(data), len(calls)
    ([2], [2], 1)
    >>> count(("c",)), len(calls)
    ([1], 2)
    """
    last: dict[int, tuple[object, T]] = {}

    @functools.wraps(function)
    def wrapper(evidence: object) -> T:
        hit = last.get(id(evidence))
        if hit is None or hit[0] is not evidence:
            last.clear()
            hit = last[id(evidence)] = (evidence, function(evidence))
        return copy.copy(hit[1])

    return wrapper
