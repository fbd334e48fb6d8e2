"""Checks that span the tables and the bibliography: citations resolve, identifiers are well-formed.

Each check returns a list of human-readable problems (empty when all is well), so the
command line, the tests and a notebook can all report them the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from .._markup import markup_in, unsafe_url
from .counts import RANDOMISED
from .paths import notebooks_dir
from .references import Bibliography, is_valid_doi, is_valid_pmid, normalize_doi
from .tables import Evidence

CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def cited_keys(text: str) -> set[str]:
    """Citation keys used in MyST ``{cite}`` roles of ``text``.

    >>> sorted(cited_keys("As shown {cite:p}`a2000x, b2001y` and {cite:t}`c2002z`."))
    ['a2000x', 'b2001y', 'c2002z']
    """
    return {key.strip() for group in CITE_ROLE.findall(text) for key in group.split(",")
            if key.strip()}


def notebook_markdown(path: str | Path) -> str:
    """The markdown cells of a notebook, joined."""
    with Path(path).open(encoding="utf-8") as handle:
        cells = json.load(handle).get("cells", [])
    return "\n\n".join("".join(c.get("source", "")) for c in cells
                       if c.get("cell_type") == "markdown")


def notebook_citations(folder: str | Path | None = None) -> dict[str, set[str]]:
    """Map each notebook file name in ``folder`` to the citation keys it uses."""
    folder = Path(folder) if folder is not None else notebooks_dir()
    if not folder.is_dir():
        return {}
    return {p.name: cited_keys(notebook_markdown(p)) for p in sorted(folder.glob("*.ipynb"))}


def check_identifiers(bib: Bibliography) -> list[str]:
    """DOIs and PMIDs are well-formed and stored in normalised form."""
    problems = []
    for key, ref in bib.items():
        where = f"{bib.path}, line {ref.line}, entry {key!r}"
        if ref.doi and (ref.doi != normalize_doi(ref.doi) or not is_valid_doi(ref.doi)):
            problems.append(f"{where}: field 'doi': value {ref.doi!r} is not a bare, "
                            f"lower-case DOI (expected e.g. {normalize_doi(ref.doi)!r})")
        if ref.pmid and not is_valid_pmid(ref.pmid):
            problems.append(f"{where}: field 'pmid': value {ref.pmid!r} is not a PubMed id")
    return problems


def missing_identifiers(bib: Bibliography) -> list[str]:
    """Keys of articles with neither DOI nor PMID: identifiers nobody could confirm yet.

    These are reported, not refused: an empty field is honest, a guessed one is a defect.
    """
    return [key for key, ref in bib.items()
            if ref.entry_type == "article" and not ref.doi and not ref.pmid]


def check_citations(evidence: Evidence, citations: dict[str, set[str]]) -> list[str]:
    """Every key used resolves in the bibliography and every entry is used somewhere."""
    bib = evidence.references
    problems = []
    used_by: dict[str, list[str]] = {}

    def use(keys: Iterable[str], where: str) -> None:
        for key in keys:
            used_by.setdefault(key, []).append(where)

    studies = evidence.studies
    for line, key in zip(range(2, len(studies) + 2), studies["bibkey"], strict=True):
        use([key], f"studies.csv, line {line}, field 'bibkey'")
    for line, text in zip(range(2, len(studies) + 2), studies["risk_of_bias"], strict=True):
        if not pd.isna(text):  # "... (rated by Thieme 2012 (Cochrane), thieme2012mirror; ...)"
            use([w for w in re.findall(r"[a-z][a-z0-9]+", text) if w in bib],
                f"studies.csv, line {line}, field 'risk_of_bias'")
    treatments = evidence.treatments
    for line, keys in zip(range(2, len(treatments) + 2), treatments["sources"], strict=True):
        if not pd.isna(keys):
            use(keys.split(), f"treatments.csv, line {line}, field 'sources'")
    for table, name in ((evidence.certainty, "certainty.csv"),
                        (evidence.published_analyses, "published_analyses.csv")):
        column = "rated_by" if name == "certainty.csv" else "bibkey"
        for line, key in zip(range(2, len(table) + 2), table[column], strict=True):
            if key != "this collection":
                use([key], f"{name}, line {line}, field {column!r}")
    for name, keys in citations.items():
        use(keys, f"notebooks/{name}")
    for key, places in sorted(used_by.items()):
        if key not in bib:
            problems.append(f"{places[0]}: value {key!r}: no such key in {bib.path.name}")
    for key, ref in bib.items():
        if key not in used_by:
            problems.append(f"{bib.path}, line {ref.line}: entry {key!r} is cited by no table "
                            "or notebook")
    return problems


def check_rows(evidence: Evidence, folder: Path | None = None) -> list[str]:
    """Rules across fields that a Table Schema cannot express."""
    problems = []
    studies, outcomes, treatments = evidence.studies, evidence.outcomes, evidence.treatments
    for line, row in zip(range(2, len(studies) + 2), studies.itertuples(), strict=True):
        where = f"studies.csv, line {line}, study {row.id!r}"
        if row.design in RANDOMISED and row.primary_result == "uncontrolled":
            problems.append(f"{where}: field 'primary_result': a randomised design cannot be "
                            "'uncontrolled'")
        if row.design not in RANDOMISED | {"RCT follow-up", "non-randomised controlled"} and \
                row.primary_result not in {"uncontrolled", "not_reported"}:
            problems.append(f"{where}: field 'primary_result': value {row.primary_result!r} "
                            f"needs a control group; design is {row.design!r}")
        if not row.verified and pd.isna(row.unverified):
            problems.append(f"{where}: field 'unverified': say what could not be checked")
        if row.design == "RCT follow-up" and pd.isna(row.follow_up_of):
            problems.append(f"{where}: field 'follow_up_of': a follow-up names its trial")
    for line, row in zip(range(2, len(outcomes) + 2), outcomes.itertuples(), strict=True):
        where = f"outcomes.csv, line {line}, study {row.study_id!r}, arm {row.arm!r}"
        if row.data_type == "continuous":
            if pd.isna(row.mean) and pd.isna(row.median):
                problems.append(f"{where}: continuous data need a mean or a median")
            elif pd.isna(row.mean):
                if (pd.isna(row.iqr_low) and pd.isna(row.range_low)) and pd.isna(row.note):
                    problems.append(f"{where}: field 'note': a median without quartiles or "
                                    "range cannot enter a synthesis; say why")
            elif ((pd.isna(row.sd) and pd.isna(row.se)) or pd.isna(row.n)) and pd.isna(row.note):
                problems.append(f"{where}: field 'note': a mean without n and sd or se "
                                "cannot enter a synthesis; say why the figure is missing")
        if row.data_type == "dichotomous" and (pd.isna(row.n) or pd.isna(row.events)
                                               or row.events > row.n):
            problems.append(f"{where}: dichotomous data need events <= n")
        if row.data_type == "reported_effect":
            if row.role != "contrast" or pd.isna(row.effect_measure) or pd.isna(row.effect):
                problems.append(f"{where}: a reported effect is a 'contrast' row with "
                                "effect_measure and effect")
            elif not pd.isna(row.ci_low) and not row.ci_low <= row.effect <= row.ci_high:
                problems.append(f"{where}: effect {row.effect} lies outside its CI "
                                f"[{row.ci_low}, {row.ci_high}]")
    problems += check_parents(treatments)
    folder = folder if folder is not None else notebooks_dir()
    if folder.is_dir():
        for line, row in zip(range(2, len(treatments) + 2), treatments.itertuples(),
                             strict=True):
            if not pd.isna(row.notebook) and not (folder / row.notebook).is_file():
                problems.append(f"treatments.csv, line {line}, field 'notebook': value "
                                f"{row.notebook!r}: no such notebook in {folder}")
    return problems


def check_reference_sources(bib: Bibliography, sources: pd.DataFrame,
                            where: str = "reference_sources.csv") -> list[str]:
    """Every bibliography entry has a row saying where it was checked, and only those.

    A row without ``source_url`` must say in ``note`` why no page was found, and
    ``fields_checked`` may only name fields the entry has.

    Examples
    --------
    >>> from crps_evidence import load_references
    >>> from crps_evidence.evidence.tables import load_reference_sources
    >>> check_reference_sources(load_references(), load_reference_sources())
    []
    """
    problems = []
    recorded = set(sources["bibkey"])
    for key in sorted(set(bib) - recorded):
        problems.append(f"{where}: no row for references.bib entry {key!r}: record the page "
                        "where its fields were checked")
    for line, row in enumerate(sources.itertuples(index=False), start=2):
        at = f"{where}, line {line}"
        if row.bibkey not in bib:
            problems.append(f"{at}: field 'bibkey': {row.bibkey!r} is not in references.bib")
            continue
        if pd.isna(row.source_url) and pd.isna(row.note):
            problems.append(f"{at}: field 'note': a row without source_url must say why")
        checked = set(str(row.fields_checked).split()) if not pd.isna(row.fields_checked) else set()
        unknown = sorted(checked - set(bib[row.bibkey].fields))
        if unknown:
            problems.append(f"{at}: field 'fields_checked': {', '.join(unknown)} not in the "
                            f"entry {row.bibkey!r}")
    return problems


def check_search_log(log: pd.DataFrame, bib: Bibliography) -> list[str]:
    """Each recorded search counts what it included, and what it included is in the bibliography."""
    problems = []
    for line, row in zip(range(2, len(log) + 2), log.itertuples(index=False), strict=True):
        at = f"search_log.csv, line {line}, treatment {row.treatment_id!r}"
        keys = [] if pd.isna(row.included) else str(row.included).split()
        if len(keys) != row.records_included:
            problems.append(f"{at}: field 'records_included': {row.records_included} but "
                            f"'included' names {len(keys)} record(s)")
        if row.records_included > row.records_looked_at:
            problems.append(f"{at}: field 'records_included': more than the "
                            f"{row.records_looked_at} records looked at")
        problems += [f"{at}: field 'included': {key!r} is not in references.bib"
                     for key in keys if key not in bib]
    return problems


def check_parents(treatments: pd.DataFrame, where: str = "treatments.csv") -> list[str]:
    """A ``parent`` names another treatment, and following parents never comes back round.

    A treatment that is its own parent, or a cycle (a -> b -> a), would count a child with
    its parent's trials and drop it from the pooling status: both are errors.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a", "b", "c"], "parent": ["b", "a", "c"]})
    >>> for problem in check_parents(frame):
    ...     print(problem)
    treatments.csv, line 2, field 'parent': value 'b': parents form a cycle (a -> b -> a)
    treatments.csv, line 4, field 'parent': value 'c': a treatment cannot be its own parent
    """
    parents = {str(i): (None if pd.isna(p) else str(p))
               for i, p in zip(treatments["id"], treatments["parent"], strict=True)}
    problems, reported = [], set()
    for line, (tid, parent) in enumerate(parents.items(), start=2):
        at = f"{where}, line {line}, field 'parent': value {parent!r}"
        if parent is None:
            continue
        if parent == tid:
            problems.append(f"{at}: a treatment cannot be its own parent")
            continue
        chain = [tid]
        while parent is not None and parent in parents and parent not in chain:
            chain.append(parent)
            parent = parents[parent]
        if parent is not None and parent in chain and parent != chain[-1]:
            cycle = chain[chain.index(parent):]
            if frozenset(cycle) not in reported and tid in cycle:
                reported.add(frozenset(cycle))
                problems.append(f"{at}: parents form a cycle "
                                f"({' -> '.join([*cycle, cycle[0]])})")
    return problems


#: Columns that hold addresses, by name (besides those the schema types as ``uri``).
URL_COLUMNS = frozenset({"source_url", "url"})


def check_markup(tables: Mapping[str, pd.DataFrame], bib: Bibliography | None = None
                 ) -> list[str]:
    """No HTML in any text of the tables or the bibliography, and only web addresses.

    Everything is escaped when the book is built; this check reports a cell or a field that
    holds an HTML tag (``<script``, ``<img``: data is text, never markup) or an address that
    is not ``https`` or ``http`` (``javascript:``), so a pull request that adds one fails.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        File name (``studies.csv``) to the loaded table.
    bib : Bibliography, optional
        ``references.bib``: every field of every entry is checked too.

    Returns
    -------
    list of str
        One problem per cell or field, naming file, line, field and value.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a"], "note": ["<img src=x onerror=alert(1)>"],
    ...                       "source_url": ["javascript:alert(1)"]})
    >>> for problem in check_markup({"t.csv": frame}):
    ...     print(problem)
    t.csv, line 2, field 'note': value '<img src=x onerror=alert(1)>': HTML markup ('<img') in a text; write it as plain text
    t.csv, line 2, field 'source_url': value 'javascript:alert(1)': not a web address: scheme 'javascript' is not one of http, https
    """  # noqa: E501
    problems = []
    for name, frame in tables.items():
        for column in frame.columns:
            values = frame[column]
            if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
                continue
            for line, value in zip(range(2, len(frame) + 2), values, strict=True):
                if value is None or (not isinstance(value, str) and pd.isna(value)):
                    continue
                problems += _markup_problems(f"{name}, line {line}", str(column), str(value))
    if bib is not None:
        for key, ref in bib.items():
            for field, value in ref.fields.items():
                problems += _markup_problems(f"{bib.path}, line {ref.line}, entry {key!r}",
                                             field, value)
    return problems


def _markup_problems(at: str, field: str, value: str) -> list[str]:
    where = f"{at}, field {field!r}: value {value!r}"
    found = []
    tag = markup_in(value)
    if tag:
        found.append(f"{where}: HTML markup ({tag!r}) in a text; write it as plain text")
    if field in URL_COLUMNS or field.endswith("_url"):
        why = unsafe_url(value)
        if why and not tag:
            found.append(f"{where}: not a web address: {why}")
    elif re.match(r"\s*(javascript|vbscript|data):", value, re.IGNORECASE):
        found.append(f"{where}: a script address in a text")
    return found
