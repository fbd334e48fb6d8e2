"""The module names of the flat layout before the package was grouped into parts.

``from crps_evidence import notebook``, ``from crps_evidence.searches import search_status``
and the other names that README, CONTRIBUTING and the notebooks show keep working: each old
name imports the module in its new home, so both names give the same module object.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

#: old module name (under ``crps_evidence.``) -> the module's home now
MOVED = {
    "data": "evidence.tables",
    "integrity": "evidence.integrity",
    "paths": "evidence.paths",
    "references": "evidence.references",
    "tableschema": "evidence.tableschema",
    "validation": "evidence.validation",
    "analyses": "stats.analyses",
    "certainty": "stats.certainty",
    "conversions": "stats.conversions",
    "grade": "stats.grade",
    "synthesis": "stats.synthesis",
    "clients": "current.clients",
    "screening": "current.screening",
    "searches": "current.searches",
    "trials": "current.trials",
    "update": "current.update",
    "display": "book.display",
    "forest": "book.forest",
    "handout_pages": "book.handout_pages",
    "handouts": "book.handouts",
    "headless": "book.headless",
    "notebook": "book.notebook",
    "overview": "book.overview",
    "plots": "book.plots",
}


class _OldNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``crps_evidence.<old name>`` and hands back the module at its new home."""

    def __init__(self, package: str) -> None:
        self.prefix = package + "."
        self.package = package

    def _target(self, fullname: str) -> str | None:
        if not fullname.startswith(self.prefix):
            return None
        head, _, rest = fullname[len(self.prefix):].partition(".")
        if head not in MOVED:
            return None
        return f"{self.package}.{MOVED[head]}" + (f".{rest}" if rest else "")

    def find_spec(self, fullname: str, path: object = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        new = self._target(fullname)
        return importlib.util.spec_from_loader(fullname, self) if new else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self._target(spec.name))  # type: ignore[arg-type]
        spec.loader_state = module.__spec__  # the import system is about to overwrite it
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = module.__spec__.loader_state  # the module keeps its own spec


def install(package: str) -> None:
    """Make the old names of ``package``'s modules importable (once per interpreter)."""
    if not any(isinstance(f, _OldNames) and f.package == package for f in sys.meta_path):
        sys.meta_path.append(_OldNames(package))
