"""Build hook: the wheel carries the project's data as real files.

``data/*.csv``, ``data/datapackage.json`` and ``references.bib`` are the one source of truth;
when a wheel is built they are copied into ``crps_evidence/_data/`` (where
``crps_evidence.evidence.paths`` looks for them in an installed copy). Everything else about
the package is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithData(build_py):
    """``build_py`` that also copies the tables, their schema and the bibliography."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout itself
            return
        target = Path(self.build_lib) / "crps_evidence" / "_data"
        (target / "data").mkdir(parents=True, exist_ok=True)
        for table in sorted((HERE / "data").glob("*.csv")):
            shutil.copyfile(table, target / "data" / table.name)
        shutil.copyfile(HERE / "data" / "datapackage.json", target / "data" / "datapackage.json")
        shutil.copyfile(HERE / "references.bib", target / "references.bib")


setup(cmdclass={"build_py": BuildWithData})
