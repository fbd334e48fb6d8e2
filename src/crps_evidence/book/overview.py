"""Side-by-side summaries across treatments (the evidence overview and the key-points boxes)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from matplotlib.figure import Figure

from ..evidence.counts import RANDOMISED, count_studies, plural
from ..evidence.tables import Evidence
from ..stats.certainty import NO_STUDIES, headline
from .display import ReaderTable, reader_table

CERTAINTY_ORDER = ["high", "moderate", "low", "very low", NO_STUDIES]


def treatment_summary(evidence: Evidence, roll_up: bool = True) -> pd.DataFrame:
    """One row per treatment: counts of trials, participants and primary results.

    Parameters
    ----------
    evidence : Evidence
        From :func:`crps_evidence.load_all`.
    roll_up : bool
        Count a sub-modality's studies under its parent too (as the key-points box does).

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, parent, category, invasiveness, access, certainty, certainty_by,
        rcts,
        rct_participants, rcts_size_unknown, other_studies, favours_treatment, no_difference,
        favours_control``, in the order of ``treatments.csv``.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> s = treatment_summary(load_all())
    >>> bool((s["rcts"] >= 0).all())
    True
    """
    treatments, studies = evidence.treatments, evidence.studies
    parent_of = treatments.set_index("id")["parent"]
    certainty = headline(evidence).set_index("treatment_id")
    rows = []
    for treatment in treatments.itertuples():
        ids = {treatment.id}
        if roll_up:
            ids |= set(parent_of[parent_of == treatment.id].index)
        own = studies[studies["treatment_id"].isin(ids)]
        rcts = own[own["design"].isin(RANDOMISED)]
        results = rcts["primary_result"].value_counts()
        count = count_studies(own)
        rows.append({
            "id": treatment.id,
            "name": treatment.name,
            "parent": treatment.parent,
            "category": treatment.category,
            "invasiveness": treatment.invasiveness,
            "access": treatment.access,
            "certainty": certainty.loc[treatment.id, "certainty"],
            "certainty_by": certainty.loc[treatment.id, "rated_by"],
            "rcts": count.randomised,
            "rct_participants": count.participants,
            "rcts_size_unknown": count.size_unknown,
            "other_studies": count.other,
            "favours_treatment": int(results.get("favours_treatment", 0)),
            "no_difference": int(results.get("no_difference", 0)),
            "favours_control": int(results.get("favours_control", 0)),
        })
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ reader-facing tables

#: Short words for the invasiveness scale of ``treatments.csv`` (0-4).
INVASIVENESS_WORDS = {
    0: "0: exercise or behavioural",
    1: "1: skin surface, topical or chamber",
    2: "2: intravenous or extracorporeal",
    3: "3: injection near nerves",
    4: "4: implanted device",
}

_RESULT_PHRASES = (
    ("favours_treatment", "favours treatment"),
    ("no_difference", "no difference"),
    ("favours_control", "favours control"),
)


def _results_phrase(row: pd.Series) -> str:
    parts = [f"{row[column]} {words}" for column, words in _RESULT_PHRASES if row[column]]
    other = row["rcts"] - sum(row[column] for column, _ in _RESULT_PHRASES)
    if other:
        parts.append(f"{other} other")
    return "; ".join(parts) if parts else "no randomised trial"


def evidence_table(evidence: Evidence) -> ReaderTable:
    """Every treatment side by side, worded for readers (the evidence overview's table).

    Sub-modalities are listed under their own name with the treatment they belong to, and
    their studies are counted once (``roll_up=False``), so no trial is counted twice.

    Parameters
    ----------
    evidence : Evidence
        From :func:`crps_evidence.load_all`.

    Returns
    -------
    ReaderTable
        Columns ``Treatment, Part of, Invasiveness, Access, Certainty (GRADE), RCTs,
        RCT participants, Primary results of the RCTs, Other studies, Notebook``, in the
        order of ``treatments.csv``. *RCT participants* adds, in brackets, how many trials
        have no verified size; *Primary results of the RCTs* counts each direction.
        Displayed as a table for readers, each treatment linking to its notebook.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> table = evidence_table(load_all())
    >>> list(table.columns)[:3]
    ['Treatment', 'Part of', 'Invasiveness']
    """
    summary = treatment_summary(evidence, roll_up=False)
    names = dict(zip(summary["id"], summary["name"], strict=True))
    participants = [
        f"{row.rct_participants}" + (
            f" and {row.rcts_size_unknown} trial{'s' if row.rcts_size_unknown > 1 else ''} "
            "of unknown size" if row.rcts_size_unknown else "")
        for row in summary.itertuples()
    ]
    table = pd.DataFrame({
        "Treatment": summary["name"],
        "Part of": summary["parent"].map(names).fillna("").to_numpy(),
        "Invasiveness": summary["invasiveness"].map(INVASIVENESS_WORDS).to_numpy(),
        "Access": summary["access"].to_numpy(),
        "Certainty (GRADE)": certainty_labels(evidence),
        "RCTs": summary["rcts"].to_numpy(),
        "RCT participants": participants,
        "Primary results of the RCTs": [_results_phrase(r) for _, r in summary.iterrows()],
        "Other studies": summary["other_studies"].to_numpy(),
        "Notebook": evidence.treatments["notebook"].fillna("").to_numpy(),
    })
    return reader_table(table, links={"Treatment": "Notebook"})


def certainty_counts(evidence: Evidence) -> ReaderTable:
    """How many treatments (and sub-modalities) carry each GRADE certainty rating.

    Returns
    -------
    ReaderTable
        Columns ``Certainty (GRADE)`` and ``Treatments`` (the count), in the order
        high, moderate, low, very low, then *no studies found* (a state, not a rating);
        levels no treatment has are kept with 0.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> int(certainty_counts(load_all())["Treatments"].sum()) == len(load_all().treatments)
    True
    """
    counts = headline(evidence)["certainty"].value_counts()
    return reader_table(pd.DataFrame({
        "Certainty (GRADE)": CERTAINTY_ORDER,
        "Treatments": [int(counts.get(level, 0)) for level in CERTAINTY_ORDER],
    }))


# ------------------------------------------------------------------ the landing-page table

#: Plain words for each ``treatments.category`` (the landing table's "What it is").
CATEGORY_WORDS = {
    "medication": "a medicine",
    "infusion": "a medicine given into a vein over hours or days",
    "apheresis": "blood plasma removed and replaced outside the body",
    "rehabilitation": "exercise and movement therapy",
    "injection": "an injection near nerves",
    "topical": "a cream applied to the skin",
    "external device": "a device used on the skin",
    "implanted device": "a device implanted in the body",
    "chamber": "breathing oxygen in a pressure chamber",
    "psychological": "talking therapy, education or a team pain programme",
}


def studies_show(evidence: Evidence) -> list[str]:
    """What the studies show about each treatment, in ``treatments.csv`` order.

    The leading summary-of-findings row in words (statement, size in plain numbers, what it
    rests on: :func:`crps_evidence.stats.findings.what_it_means`), or that no study was found.
    """
    from ..stats.findings import lead_findings, what_it_means

    lead = lead_findings(evidence)
    return [what_it_means(lead[t]) if t in lead else "No study of it in CRPS was found."
            for t in evidence.treatments["id"]]


def _first_sentence(text: object) -> object:
    """The first sentence of a cell (missing stays missing): "what it is", the main risk."""
    if pd.isna(text) or not str(text).strip():
        return pd.NA
    sentence = str(text).split(". ")[0].strip()
    return sentence if sentence.endswith(".") else sentence + "."


def certainty_labels(evidence: Evidence) -> list[str]:
    """Each treatment's headline certainty in words, saying who rated it.

    "Low (rated by Zhu et al. 2024)", "Very low (our assessment)", or "No studies found".

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> labels = certainty_labels(load_all())
    >>> all(label.split(" (")[0] in {"High", "Moderate", "Low", "Very low", "No studies found"}
    ...     for label in labels)
    True
    """
    from ..evidence.references import short_citation

    labels = []
    for row in headline(evidence).itertuples():
        if row.certainty == NO_STUDIES:
            labels.append("No studies found")
        elif row.published:
            ref = short_citation(evidence.references[row.rated_by])
            labels.append(f"{row.certainty.capitalize()} (rated by {ref})")
        else:
            labels.append(f"{row.certainty.capitalize()} (our assessment)")
    return labels


def studies_show_briefly(evidence: Evidence) -> list[str]:
    """:func:`studies_show` in one sentence and a count, for the printed summary of all.

    "The evidence is very uncertain about the effect of IVIG on pain (2 studies, 124 people)."
    """
    from ..stats.findings import lead_findings

    lead = lead_findings(evidence)
    out = []
    for treatment_id in evidence.treatments["id"]:
        row = lead.get(treatment_id)
        if row is None:
            out.append("No study of it in CRPS was found.")
            continue
        count = plural(row.studies, "study", "studies")
        if row.participants:
            count += (f", {'at least ' if row.size_unknown else ''}"
                      f"{plural(row.participants, 'person', 'people')}")
        out.append(f"{row.brief_statement[:-1]} ({count})." if row.studies
                   else row.brief_statement)
    return out


def landing_table(evidence: Evidence) -> ReaderTable:
    """One row per treatment for the book's home page, in plain words.

    Built from ``treatments.csv`` (plain summary, risks, access), the headline rating (the
    certainty label and who rated it), the leading summary-of-findings row (what the studies
    show, :func:`studies_show`) and the searches' dates. Sub-modalities have rows of their own.

    Parameters
    ----------
    evidence : Evidence
        From :func:`crps_evidence.load_all`.

    Returns
    -------
    ReaderTable
        Columns ``Treatment, What it is, Certainty, What the studies show, Main risks,
        Access, Up to date, Notebook`` in the order of ``treatments.csv``; ``Notebook`` is the
        page each treatment links to (displayed as the link of ``Treatment``, not as a column).

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> table = landing_table(load_all())
    >>> list(table.columns)[:3], len(table) == len(load_all().treatments)
    (['Treatment', 'What it is', 'Certainty'], True)
    """
    treatments = evidence.treatments.reset_index(drop=True)
    names = dict(zip(treatments["id"], treatments["name"], strict=True))
    what = treatments["category"].map(CATEGORY_WORDS).fillna(treatments["category"])
    part_of = treatments["parent"].map(names)
    what = [f"{w} (covered on the {p} page)" if isinstance(p, str) else w
            for w, p in zip(what, part_of, strict=True)]
    firsts = treatments["plain_summary"].map(_first_sentence)
    what = [s if isinstance(s, str) else w[0].upper() + w[1:]
            for s, w in zip(firsts, what, strict=True)]
    table = pd.DataFrame({
        "Treatment": treatments["name"],
        "What it is": what,
        "Certainty": certainty_labels(evidence),
        "What the studies show": studies_show(evidence),
        "Main risks": treatments["main_risks"].fillna(
            treatments["main_adverse_events"].map(_first_sentence)).to_numpy(),
        "Access": treatments["access"].str.capitalize().to_numpy(),
        "Up to date": _up_to_date_column(evidence),
        "Notebook": treatments["notebook"].to_numpy(),
    })
    return reader_table(table, links={"Treatment": "Notebook"}, missing="not reported",
                        caption="Every treatment in the collection")


def _up_to_date_column(evidence: Evidence) -> list[str]:
    """Per treatment: the review date and the search date (or that none was run), short."""
    from ..current.searches import search_status

    status = search_status(evidence.folder)
    cells = []
    for row in evidence.treatments.itertuples():
        state = status.get(row.id)
        searched = ("not yet searched" if state is None or state.last_run is None
                    else f"searched {state.last_run:%Y-%m-%d}"
                    + (" by hand" if state.how == "by hand" else ""))
        waiting = f"; {state.waiting} to screen" if state is not None and state.waiting else ""
        cells.append(f"Reviewed {pd.Timestamp(row.last_reviewed):%Y-%m-%d}; {searched}{waiting}")
    return cells


# ------------------------------------------------------------------------ pooling status


def _ids_with_children(evidence: Evidence, treatment_id: str) -> list[str]:
    treatments = evidence.treatments
    children = treatments.loc[treatments["parent"] == treatment_id, "id"].tolist()
    return [treatment_id, *children]


def main_effects(evidence: Evidence, treatment_id: str, domain: str = "pain",
                 measure: str = "SMD") -> pd.DataFrame:
    """Effect sizes of a treatment (and its sub-modalities): each study's main time point.

    The main time point is the first one listed for the study in ``outcomes.csv`` (see
    ``data/README.md``). Works on any :class:`~crps_evidence.evidence.tables.Evidence`, such as a
    temporary copy of the data loaded with ``load_all(directory, bib)``.

    Parameters
    ----------
    evidence : Evidence
        Loaded data.
    treatment_id : str
        A ``treatments.id``; its sub-modalities are included.
    domain : str
        Outcome domain, e.g. ``"pain"``.
    measure : {"SMD", "MD", "RR", "OR", "RD"}
        Passed to :func:`crps_evidence.stats.synthesis.effect_sizes`.

    Returns
    -------
    pandas.DataFrame
        Rows of :func:`~crps_evidence.stats.synthesis.effect_sizes` (empty if there are none),
        one per study; rows that could not be computed are listed, with the reason, in
        ``result.attrs["skipped"]``.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> list(main_effects(load_all(), "hbot")["study_id"])
    ['kiralp2004effectiveness']
    """
    from ..stats.synthesis import effect_sizes

    studies = evidence.studies
    ids = set(studies.loc[studies["treatment_id"].isin(_ids_with_children(evidence,
                                                                          treatment_id)), "id"])
    outcomes = evidence.outcomes
    rows = outcomes[outcomes["study_id"].isin(ids) & (outcomes["domain"] == domain)]
    effects = effect_sizes(rows, measure=measure)
    skipped = effects.attrs.get("skipped", [])
    order = {key: i for i, key in enumerate(rows["timepoint"].drop_duplicates())}
    effects = effects.assign(_order=effects["timepoint"].map(order))
    effects = effects.sort_values(["study_id", "_order"], kind="stable")
    effects = effects.drop_duplicates("study_id").drop(columns="_order").reset_index(drop=True)
    effects.attrs["skipped"] = skipped
    return effects


def pooling_status(evidence: Evidence, measures: tuple[str, ...] = ("MD", "SMD")
                   ) -> ReaderTable:
    """Try to pool every treatment's trials and report, through the package, what happened.

    For each top-level treatment, outcome domain and effect measure with at least one
    outcome row, the main effect of each study (:func:`main_effects`) is passed to
    :func:`crps_evidence.stats.synthesis.pool_effects`. Its refusal (an ``AnalysisError``) is
    reported word for word; nothing is pooled that the package would not pool.

    Parameters
    ----------
    evidence : Evidence
        Loaded data.
    measures : tuple of str
        Effect measures to try.

    Returns
    -------
    ReaderTable
        Columns ``Treatment, Domain, Measure, Studies with outcome rows, Usable effects,
        Pooled?, Reason`` (displayed as a table for readers).

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> status = pooling_status(load_all())
    >>> set(status["Pooled?"]) <= {"yes", "no"}
    True
    """
    import warnings

    from ..errors import AnalysisError
    from ..stats.synthesis import pool_effects

    treatments, studies, outcomes = evidence.treatments, evidence.studies, evidence.outcomes
    records = []
    for treatment in treatments[treatments["parent"].isna()].itertuples():
        ids = set(studies.loc[studies["treatment_id"].isin(
            _ids_with_children(evidence, treatment.id)), "id"])
        mine = outcomes[outcomes["study_id"].isin(ids)]
        for domain in mine["domain"].drop_duplicates():
            for measure in measures:
                effects = main_effects(evidence, treatment.id, domain, measure)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        pool_effects(effects)
                    pooled, reason = "yes", ""
                except AnalysisError as exc:
                    pooled, reason = "no", str(exc)
                records.append({
                    "Treatment": treatment.name,
                    "Domain": domain,
                    "Measure": measure,
                    "Studies with outcome rows": mine.loc[mine["domain"] == domain,
                                                          "study_id"].nunique(),
                    "Usable effects": len(effects),
                    "Pooled?": pooled,
                    "Reason": reason,
                })
    return reader_table(pd.DataFrame(records))


def forest_figure(evidence: Evidence, treatment_id: str, domain: str = "pain",
                  measure: str = "SMD", method: str = "REML") -> Figure:
    """Forest plot of a treatment's main effects in ``evidence``, pooled only when allowed.

    Like :func:`crps_evidence.book.notebook.forest_plot`, but for any loaded copy of the data
    (for example a temporary copy with an added study). The pooled diamond is drawn only
    when :func:`crps_evidence.stats.synthesis.pool_effects` accepts the rows.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    AnalysisError
        When the treatment has no usable effect for this domain and measure.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> fig = forest_figure(load_all(), "hbot")
    """
    import warnings

    from ..errors import AnalysisError
    from ..evidence.references import short_citation
    from ..stats.synthesis import pool_effects
    from .plots import forest_plot

    effects = main_effects(evidence, treatment_id, domain, measure)
    if effects.empty:
        raise AnalysisError(f"no usable {domain} {measure} for {treatment_id!r}")
    pooled = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pooled = pool_effects(effects, method=method)
    except AnalysisError:
        pooled = None
    bib = evidence.references
    labels = {row.id: short_citation(bib[row.bibkey]) for row in evidence.studies.itertuples()}
    return forest_plot(effects, pooled=pooled, labels=labels,
                       title=f"{domain.capitalize()}: {measure} by study")


# ---------------------------------------------------------- a temporary copy of the data


def copy_data(destination: str | Path) -> Path:
    """Copy the collection's data and bibliography into ``destination`` (a new project root).

    The copy has the project's layout (``data/*.csv``, ``data/datapackage.json`` and
    ``references.bib``), so ``load_all(destination / "data", bib=destination /
    "references.bib")`` loads it. Use it to try an edit without touching the repository.

    Parameters
    ----------
    destination : str or Path
        An existing folder, e.g. ``tempfile.TemporaryDirectory().name``.

    Returns
    -------
    Path
        ``destination``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = copy_data(tmp)
    ...     sorted(p.name for p in (root / "data").iterdir())[:3]
    ['analyses.csv', 'certainty.csv', 'datapackage.json']
    """
    from ..evidence.paths import bibliography_path, data_dir
    from ..evidence.tables import DESCRIPTOR, TABLES

    root = Path(destination)
    (root / "data").mkdir(parents=True, exist_ok=True)
    for name in [f"{table}.csv" for table in TABLES] + [DESCRIPTOR]:
        shutil.copyfile(data_dir() / name, root / "data" / name)
    shutil.copyfile(bibliography_path(), root / "references.bib")
    return root


# ----------------------------------------------------------- the synthetic worked example

SYNTHETIC_TREATMENT = "synthetic-example"
"""Treatment id of the made-up example used to teach the "add a study" steps."""

_SYNTHETIC_ARMS = {  # study letter -> (n, mean, sd) for the example arm and its control
    "a": ((30, 4.0, 2.0), (30, 5.0, 2.0)),
    "b": ((40, 4.6, 2.2), (40, 5.0, 2.1)),
    "c": ((25, 3.8, 1.9), (25, 5.1, 2.0)),
}


class SyntheticStudy(NamedTuple):
    """Rows and BibTeX of one made-up study (for teaching only; never evidence)."""

    treatment: pd.DataFrame
    study: pd.DataFrame
    outcomes: pd.DataFrame
    bibtex: str
    certainty: pd.DataFrame
    risk_of_bias: pd.DataFrame | None = None


def synthetic_study(letter: str = "a") -> SyntheticStudy:
    """A made-up study, clearly labelled, for practising the "add a study" steps.

    Every value is invented. The treatment, the study and its reference all say
    SYNTHETIC EXAMPLE, the year is 2099 and the source URL is on ``example.org``, so the
    rows cannot be mistaken for evidence. Add them only to a copy (:func:`copy_data`).

    Parameters
    ----------
    letter : {"a", "b", "c"}
        Which of the three made-up studies.

    Returns
    -------
    SyntheticStudy
        One-row ``treatment`` and ``study`` frames, two ``outcomes`` rows (example arm and
        control, pain on a 0-10 scale) in the column order of the data package, the
        reference as BibTeX, our certainty row and the trial's RoB 2 rows (every domain
        "no information": nothing was read).

    Examples
    --------
    >>> example = synthetic_study("a")
    >>> example.study.loc[0, "id"]
    'synthetic2099examplea'
    """
    if letter not in _SYNTHETIC_ARMS:
        raise ValueError(f"unknown synthetic study {letter!r}; choose one of "
                         f"{sorted(_SYNTHETIC_ARMS)}")
    key = f"synthetic2099example{letter}"
    label = f"SYNTHETIC EXAMPLE {letter.upper()}"
    note = "Invented numbers for teaching; not a real study."
    url = f"https://example.org/synthetic-study-{letter}"
    treatment = pd.DataFrame([{
        "id": SYNTHETIC_TREATMENT, "name": "SYNTHETIC EXAMPLE (not a real treatment)",
        "category": "rehabilitation", "mechanism_target": "none (invented for teaching)",
        "access": "prescription", "invasiveness": 0, "last_reviewed": "2099-01-01",
        "plain_summary": "An invented treatment, used only to teach how a study is added.",
    }])
    study = pd.DataFrame([{
        "id": key, "treatment_id": SYNTHETIC_TREATMENT, "bibkey": key,
        "design": "parallel RCT", "n_randomized": sum(arm[0] for arm in _SYNTHETIC_ARMS[letter]),
        "comparator": "invented control", "crps_type": "not stated",
        "primary_outcome": "pain 0-10 (invented)", "primary_result": "not_reported",
        "finding": f"{label}: invented rows used to teach how a study is added.",
        "source_url": url, "source_part": "abstract", "verified": False,
        "unverified": "Synthetic teaching example: nothing here was read in any source.",
    }])
    treat, control = _SYNTHETIC_ARMS[letter]
    outcomes = pd.DataFrame([
        {"study_id": key, "domain": "pain", "measure": "NRS 0-10 (invented)",
         "timepoint": "week 6", "timepoint_weeks": 6.0, "arm": arm, "role": role,
         "data_type": "continuous", "n": n, "mean": mean, "sd": sd,
         "lower_is_better": True, "source_url": url, "source_part": "abstract", "note": note}
        for arm, role, (n, mean, sd) in (("example treatment", "treatment", treat),
                                         ("control", "control", control))
    ])
    bibtex = (f"@misc{{{key},\n  title = {{{label}: invented study for teaching, "
              "not a real publication},\n  year = {2099}\n}\n")
    invented = "invented for teaching"
    certainty = pd.DataFrame([{
        "treatment_id": SYNTHETIC_TREATMENT, "comparison": "versus an invented control",
        "comparison_type": "placebo or sham", "domain": "pain", "outcome": "pain at week 6",
        "certainty": "very low", "rated_by": "this collection", "main": True, "studies": key,
        "risk_of_bias": "serious", "risk_of_bias_reason": invented,
        "indirectness": "no concern", "indirectness_reason": invented,
        "publication_bias": "no concern", "publication_bias_reason": invented,
        "note": "SYNTHETIC EXAMPLE: not a rating of any real treatment.",
    }])
    from ..evidence.risk_of_bias import DOMAINS

    risk_of_bias = pd.DataFrame([{
        "study_id": key, "tool": "RoB 2", "domain": domain, "judgement": "no information",
        "support": f"{label}: invented for teaching; there is no report to judge {domain} on.",
        "judged_by": "this collection", "source_url": url, "source_part": "abstract",
    } for domain in DOMAINS["RoB 2"]])
    return SyntheticStudy(treatment, study, outcomes, bibtex, certainty, risk_of_bias)


def add_rows(root: str | Path, example: SyntheticStudy) -> list[str]:
    """Append a study's rows and reference to the copy of the data under ``root``.

    The treatment row is added only if its id is not there yet. Columns follow each
    CSV's header; values a row does not give stay empty. Refuses to write into the
    repository's own ``data/`` folder.

    Parameters
    ----------
    root : str or Path
        A project root made by :func:`copy_data`.
    example : SyntheticStudy
        From :func:`synthetic_study`.

    Returns
    -------
    list of str
        What was added, as ``file: n row(s)`` lines (relative names only).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     added = add_rows(copy_data(tmp), synthetic_study("a"))
    >>> added[0], added[-1]
    ('data/treatments.csv: 1 row(s)', 'data/certainty.csv: 1 row(s)')
    """
    from ..evidence.paths import data_dir

    root = Path(root)
    if (root / "data").resolve() == data_dir().resolve():
        raise ValueError("add_rows writes only to a copy of the data; use copy_data() first")
    added = []
    tables = [("treatments", example.treatment), ("studies", example.study),
              ("outcomes", example.outcomes)]
    if example.risk_of_bias is not None:  # every randomised trial has its RoB 2 rows
        tables.append(("risk_of_bias", example.risk_of_bias))
    for name, frame in tables:
        path = root / "data" / f"{name}.csv"
        header = pd.read_csv(path, nrows=0).columns
        if name == "treatments":
            present = set(pd.read_csv(path, usecols=["id"], dtype=str)["id"])
            frame = frame[~frame["id"].isin(present)]
        if frame.empty:
            continue
        frame = frame.reindex(columns=header)
        frame = frame.replace({True: "true", False: "false"})
        frame.to_csv(path, mode="a", header=False, index=False, lineterminator="\n")
        added.append(f"data/{name}.csv: {len(frame)} row(s)")
    with (root / "references.bib").open("a", encoding="utf-8") as handle:
        handle.write("\n" + example.bibtex)
    added.append("references.bib: 1 entry")
    added += _add_certainty(root, example)
    return added


def _add_certainty(root: Path, example: SyntheticStudy) -> list[str]:
    """Add the example's certainty row (or its study to the existing one), then refill it."""
    import csv
    import io

    from ..evidence.tables import load_all
    from ..stats.certainty import fill_rows

    path = root / "data" / "certainty.csv"
    text = path.read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(text)))
    rows = list(csv.DictReader(io.StringIO(text)))
    new = {k: ("" if pd.isna(v) else str(v).lower() if k == "main" else str(v))
           for k, v in example.certainty.iloc[0].items()}
    mine = [r for r in rows if r["treatment_id"] == new["treatment_id"]
            and r["rated_by"] == new["rated_by"]]
    if mine:
        mine[0]["studies"] = " ".join(dict.fromkeys(mine[0]["studies"].split()
                                                    + new["studies"].split()))
        what = "data/certainty.csv: 1 row updated"
    else:
        rows.append(new)
        what = "data/certainty.csv: 1 row(s)"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    evidence = load_all(root / "data", bib=root / "references.bib")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(fill_rows(evidence, rows))
    path.write_text(out.getvalue(), encoding="utf-8")
    return [what]


# ---------------------------------------------------------------- textbook example data

#: metafor's ``dat.bcg`` (Colditz et al. 1994): TB cases and non-cases in the vaccinated
#: and the control group of 13 BCG vaccine trials (tpos, tneg, cpos, cneg), as printed in
#: metafor's documentation. A textbook example, not CRPS evidence.
BCG_TRIALS = (
    (4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
    (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619),
    (505, 87886, 499, 87892), (29, 7470, 45, 7232), (17, 1699, 65, 1600),
    (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825),
)


def textbook_bcg_outcomes() -> pd.DataFrame:
    """metafor's BCG vaccine example as rows in the ``outcomes.csv`` format.

    A textbook data set (not CRPS evidence) with enough trials to show random-effects
    pooling; ``tests/test_synthesis.py`` checks the package against metafor's published
    results on it.

    Returns
    -------
    pandas.DataFrame
        Two dichotomous rows (vaccine, control) per trial ``bcg01`` ... ``bcg13``;
        ``events`` are TB cases (fewer is better).

    Examples
    --------
    >>> rows = textbook_bcg_outcomes()
    >>> len(rows), int(rows["events"].iloc[0])
    (26, 4)
    """
    rows = []
    for i, (tpos, tneg, cpos, cneg) in enumerate(BCG_TRIALS, start=1):
        for arm, role, events, total in (("vaccine", "treatment", tpos, tpos + tneg),
                                         ("control", "control", cpos, cpos + cneg)):
            rows.append({"study_id": f"bcg{i:02d}", "domain": "responders",
                         "measure": "TB cases", "timepoint": "end of follow-up",
                         "arm": arm, "role": role, "data_type": "dichotomous",
                         "n": total, "events": events, "lower_is_better": True})
    return pd.DataFrame(rows)
