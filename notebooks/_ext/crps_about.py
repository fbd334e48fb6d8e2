"""The About page's facts, from the repository rather than typed by hand.

:func:`about_page_substitutions` returns the MyST substitutions ``notebooks/about.md`` uses:
who wrote the collection and which version (``CITATION.cff``), a link to the methods notebook
(whatever its number), and how to report an error (the repository's issues when
``CRPS_REPOSITORY_URL`` is set, otherwise the maintainers listed in ``CITATION.cff``).
"""

from __future__ import annotations

from pathlib import Path

import yaml


def _citation(root: Path) -> dict:
    path = root / "CITATION.cff"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _person(author: dict) -> str:
    if author.get("name"):
        return str(author["name"])
    return " ".join(str(author[k]) for k in ("given-names", "family-names") if author.get(k))


def _names(people: list[str]) -> str:
    if len(people) <= 2:
        return " and ".join(people)
    return ", ".join(people[:-1]) + ", and " + people[-1]


def about_page_substitutions(root: Path, notebooks: Path, repository_url: str) -> dict[str, str]:
    """Substitutions for ``about.md``.

    Parameters
    ----------
    root : Path
        The repository root (holds ``CITATION.cff``).
    notebooks : Path
        The book's source folder (holds ``NN-methods.ipynb``).
    repository_url : str
        The configured repository address, or ``""``.

    Returns
    -------
    dict of str to str
        ``authors``, ``version``, ``date_released``, ``methods_link``, ``report_error``.
    """
    citation = _citation(root)
    authors = _names([_person(a) for a in citation.get("authors", []) if _person(a)])
    methods = sorted(notebooks.glob("[0-9][0-9]-methods.ipynb"))
    methods_link = (f"[The methods notebook]({methods[0].name})" if methods
                    else "The methods notebook")
    if repository_url:
        report = (f"Open an issue in [the repository]({repository_url}/issues): say which page, "
                  "what it says and what you think is wrong, with a source if you have one.")
    else:
        report = ("Contact the maintainers listed in `CITATION.cff`: say which page, what it "
                  "says and what you think is wrong, with a source if you have one.")
    return {
        "authors": authors or "The collection's contributors",
        "version": str(citation.get("version", "")),
        "date_released": str(citation.get("date-released", "")),
        "methods_link": methods_link,
        "report_error": report,
    }
