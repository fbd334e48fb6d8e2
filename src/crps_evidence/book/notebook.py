"""What the notebooks call: one line per cell, the logic lives in the other modules.

Examples
--------
>>> from crps_evidence import notebook as nb
>>> table = nb.studies_table("ketamine")
>>> list(table.columns)[:3]
['Study', 'Treatment', 'Year']
"""

from __future__ import annotations

import html
import io
import re
from functools import cache
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Image, Markdown, display
from matplotlib.figure import Figure

from ..evidence.counts import count_studies, count_words, plural, study_size
from ..evidence.integrity import cited_keys, notebook_markdown
from ..evidence.paths import notebooks_dir
from ..evidence.references import format_reference, short_citation
from ..evidence.tables import Evidence, load_all, load_outcomes, load_studies, load_treatments
from ..stats import synthesis
from . import overview, plots
from .display import (
    RESULT_LABELS,
    ReaderTable,
    md_text,
    reader_table,
    register_formatter,
    to_html,
)

__all__ = [
    "NOTICE",
    "collection_table",
    "evidence_timeline",
    "forest_plot",
    "key_points",
    "load_outcomes",
    "load_studies",
    "load_treatments",
    "notice",
    "plain_table",
    "references",
    "risk_of_bias",
    "risk_of_bias_table",
    "search_log_table",
    "studies_table",
    "study_labels",
    "trials_table",
]

NOTICE = (
    "**Educational material, not medical advice.** This notebook sums up published "
    "research to help you learn. It cannot tell you what is right for you. Talk to your own "
    "care team before you start, stop or change any treatment."
)

RESULT_WORDS = RESULT_LABELS

#: What a table shows for a study whose publication year we have not verified (not a dash).
UNDATED = "not verified"

# Every DataFrame a notebook displays is a table for people (no index, no <NA>, nothing cut);
# see crps_evidence.book.display. Outside IPython this does nothing.
register_formatter()


@cache
def _evidence() -> Evidence:
    return load_all()


#: PNG text field holding the size (points) of a figure's smallest text (see :func:`as_image`).
SMALLEST_TEXT_KEY = "crps-smallest-text-pt"


def as_image(figure: Figure, dpi: int = 96, tight: bool = True) -> Image:
    """Render a figure to a PNG display object (no timestamp, so re-runs are byte-identical).

    The PNG records its resolution and, in the text field :data:`SMALLEST_TEXT_KEY`, the size
    in points of the figure's smallest text, so a check of the built book can tell how large
    that text is where the page shows the image (``tests/book/test_figures.py``).

    ``tight=False`` keeps the figure's own size: the forest plot lays its columns out to the
    inch, and a tight bounding box would crop its right-hand column.
    """
    from ._figure_tools import smallest_text_pt

    smallest = smallest_text_pt(figure)
    metadata: dict[str, str | None] = {"Software": None}
    if smallest is not None:  # read by the browser checks of legibility on a phone
        metadata[SMALLEST_TEXT_KEY] = f"{smallest:g}"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None,
                   metadata=metadata)
    return Image(data=buffer.getvalue(), format="png")


def clear_cache() -> None:
    """Forget the loaded data (after editing ``data/`` in a running kernel)."""
    _evidence.cache_clear()


def notice() -> Markdown:
    """The not-medical-advice notice every notebook carries.

    Its output also records, in metadata readers never see, the fingerprint of the data the
    notebook runs with (:mod:`crps_evidence.evidence.fingerprint`): the build refuses stored
    outputs made from other data.
    """
    from ..evidence.fingerprint import KEY, data_fingerprint

    folder = _evidence().folder
    return Markdown(f"> {NOTICE}", metadata={KEY: {"data": data_fingerprint(folder)}})


def _treatment_ids(treatment_id: str | list[str], evidence: Evidence) -> list[str]:
    """The ids asked for (one or several) and their sub-modalities."""
    treatments = evidence.treatments
    asked = [treatment_id] if isinstance(treatment_id, str) else list(treatment_id)
    unknown = [t for t in asked if t not in set(treatments["id"])]
    if unknown:
        known = ", ".join(sorted(treatments["id"]))
        raise KeyError(f"unknown treatment {unknown[0]!r}; known: {known}")
    children = treatments.loc[treatments["parent"].isin(asked), "id"].tolist()
    return [*asked, *(c for c in children if c not in asked)]


def _studies_of(treatment_id: str | list[str], evidence: Evidence) -> pd.DataFrame:
    studies = evidence.studies
    return studies[studies["treatment_id"].isin(_treatment_ids(treatment_id, evidence))]


def study_labels(evidence: Evidence | None = None) -> dict[str, str]:
    """Map study id to a short label such as ``Sigtermans et al. 2009``."""
    evidence = evidence if evidence is not None else _evidence()
    bib = evidence.references
    return {row.id: short_citation(bib[row.bibkey]) for row in evidence.studies.itertuples()}


ACCESS_WORDS = {
    "specialist procedure": "Given only by specialist teams.",
    "prescription": "Needs a prescription or a referral.",
    "over the counter": "Can be bought without a prescription.",
}


#: What every sentence giving one of our own ratings says about who rated it.
OUR_RATING = "We rated this ourselves with the GRADE method. It is not a published rating."


def certainty_sentence(treatment_id: str, evidence: Evidence | None = None,
                       ratings: pd.DataFrame | None = None) -> str:
    """How sure we can be, in words: the level, who rated it, for which comparison.

    Our own ratings always say so (:data:`OUR_RATING`). Written in short sentences for a
    patient (school grade 8 or lower, scored in ``tests/test_plain_language.py``).

    Parameters
    ----------
    treatment_id : str
        A ``treatments.id``.
    evidence : Evidence, optional
        Loaded data (default: the project's).
    ratings : pandas.DataFrame, optional
        :func:`crps_evidence.stats.certainty.headline` of ``evidence``, when the caller has it
        already (it is the slow part when sentences are made for every treatment).

    Returns
    -------
    str
        Markdown (the level in bold); text from the data is escaped.
    """
    from ..stats.certainty import NO_STUDIES, headline

    evidence = evidence if evidence is not None else _evidence()
    ratings = ratings if ratings is not None else headline(evidence)
    row = ratings.set_index("treatment_id").loc[treatment_id]
    if row["certainty"] == NO_STUDIES:
        return ("No studies found: we found no trial or other study of this treatment in CRPS, "
                "so there is nothing to rate.")
    what = f"for {md_text(row['outcome'])}, {md_text(row['comparison'])}"
    if row["published"]:
        ref = md_text(short_citation(evidence.references[row["rated_by"]]))
        text = f"**{row['certainty'].capitalize()} certainty** {what}, as rated by {ref}"
        if row["ours"]:
            text += (f"; our own assessment (GRADE method) of the trials in this collection: "
                     f"{md_text(row['ours'])}.")
            if row["ours"] != row["certainty"]:
                text += (" The review rated its own set of trials; we rate the trials held "
                         "here, by our written rules. The review's rating leads: it is at "
                         "least as recent as those trials.")
            return text
        return text + "."
    return f"**{row['certainty'].capitalize()} certainty** {what}. {OUR_RATING}"


def _day(value: object) -> str:
    day = pd.Timestamp(value)
    return f"{day.day} {day:%B %Y}"


def up_to_date(treatment_id: str) -> str:
    """When the treatment's rows were last reviewed and its search last run, in words.

    Written for readers: no command names or queue terms (the search's ``how`` and its
    screening queue, :class:`crps_evidence.current.searches.SearchStatus`, in plain words).

    Examples
    --------
    >>> up_to_date("ketamine").startswith("The data and text of this page were last reviewed on ")
    True
    """
    from ..current.searches import search_status

    evidence = _evidence()
    reviewed = evidence.treatments.set_index("id").loc[treatment_id, "last_reviewed"]
    status = search_status(evidence.folder)[treatment_id]
    text = f"The data and text of this page were last reviewed on {_day(reviewed)}."
    if status.last_run is None:
        text += " We have not yet searched for new studies of this treatment."
    else:
        how = (f'by hand (<a href="{SEARCH_RECORD}">how</a>)' if status.how == "by hand"
               else "by the collection's automatic search")
        text += f" We last searched for new studies on {_day(status.last_run)}, {how}."
    if status.waiting:
        text += (f" {plural(status.waiting, 'record')} that searches found "
                 f"{'is' if status.waiting == 1 else 'are'} still to be checked.")
    elif status.last_run is not None:
        text += " Nothing the search found is still waiting to be checked."
    return text


def _cited_by_name(text: str, evidence: Evidence) -> str:
    """``text`` with each ``references.bib`` key in it replaced by the work's short citation."""
    bib = evidence.references
    return re.sub(r"\b[a-z][a-z0-9]*\d{4}[a-z0-9]*\b",
                  lambda m: short_citation(bib[m.group(0)]) if m.group(0) in bib else m.group(0),
                  text)


#: Where the book shows every recorded search (:func:`search_log_table`).
SEARCH_RECORD = "20-methods.ipynb#searches-of-the-literature"


def search_log_table(treatment_id: str | None = None) -> ReaderTable:
    """Every recorded search (``search_log.csv``), newest first: when, how, where, what came of it.

    Displayed as a table for readers; ``treatment_id`` keeps one treatment's searches.
    """
    from ..evidence.tables import load_search_log

    evidence = _evidence()
    folder = evidence.folder
    log = load_search_log(folder / "search_log.csv") if folder else load_search_log()
    if treatment_id is not None:
        log = log[log["treatment_id"] == treatment_id]
    names = dict(zip(evidence.treatments["id"], evidence.treatments["name"], strict=True))
    log = log.assign(name=log["treatment_id"].map(names)).sort_values(
        ["searched_on", "name"], ascending=[False, True], kind="stable")
    table = pd.DataFrame({
        "Treatment": log["name"].to_numpy(),
        "Searched": [_day(d) for d in log["searched_on"]],
        "How": log["searched_by"].to_numpy(),
        "Years": log["years"].to_numpy(),
        "Query": log["query"].to_numpy(),
        "Looked at": log["records_looked_at"].to_numpy(),
        "Included": log["records_included"].to_numpy(),
        "Why the others were not": [_cited_by_name(text, evidence)
                                    for text in log["excluded"].fillna("")],
    })
    return reader_table(table, missing="none",
                        caption="Searches of the literature, newest first")


def _main_finding(treatment_id: str, evidence: Evidence) -> str | None:
    """The statement of a treatment's leading finding and its size in plain numbers.

    Both from :mod:`crps_evidence.stats.findings` (``lead_findings``, ``plain_effect``).
    """
    from ..stats.findings import lead_findings, what_it_means

    row = lead_findings(evidence).get(treatment_id)
    return None if row is None else what_it_means(row)


def _studies_line(treatment_id: str, evidence: Evidence) -> str:
    """The studies held for a treatment; for a page with parts, all of them too.

    Each part's own count is in its own key points, so a parent says its own studies first
    and then the page's total.
    """
    studies = evidence.studies
    treatments = evidence.treatments
    parts = treatments.loc[treatments["parent"] == treatment_id, "id"]
    own = count_words(count_studies(studies[studies["treatment_id"] == treatment_id]))
    if parts.empty:
        return own
    scope = studies[studies["treatment_id"].isin([treatment_id, *parts])]
    return (f"For this treatment itself: {own}. For the whole page: "
            f"{count_words(count_studies(scope))}")


def key_points(treatment_id: str) -> Markdown:
    """The *Key points* box of a treatment, in sentences, from the data."""
    evidence = _evidence()
    row = evidence.treatments.set_index("id").loc[treatment_id]
    lines = []
    if not pd.isna(row["plain_summary"]):
        lines.append(f"**In short:** {md_text(row['plain_summary'])}")
    lines.append(f"**How sure can we be?** {certainty_sentence(treatment_id, evidence)}")
    meaning = _main_finding(treatment_id, evidence)
    if meaning:
        lines.append(f"**What it means:** {md_text(meaning)}")
    lines.append(f"**Access:** {ACCESS_WORDS.get(row['access'], md_text(row['access']))}")
    if not pd.isna(row["typical_course"]):
        lines.append(f"**Course as studied:** {md_text(row['typical_course'])}")
    if not pd.isna(row["main_adverse_events"]):
        lines.append(f"**Side effects and risks:** {md_text(row['main_adverse_events'])}")
    lines.append(f"**Studies in this collection:** {_studies_line(treatment_id, evidence)}.")
    lines.append(f"**How up to date:** {up_to_date(treatment_id)}")
    return Markdown("\n".join(f"> - {line}" for line in lines))


def collection_table() -> ReaderTable:
    """Every treatment with its category, access, certainty and the studies held for it.

    Displayed as a table for readers, each treatment linking to its notebook.
    """
    evidence = _evidence()
    summary = overview.treatment_summary(evidence, roll_up=False)
    names = dict(zip(summary["id"], summary["name"], strict=True))
    table = pd.DataFrame({
        "Treatment": summary["name"],
        "Part of": summary["parent"].map(names).fillna(""),
        "Category": summary["category"],
        "Access": summary["access"],
        "Certainty": overview.certainty_labels(evidence),
        "RCTs": summary["rcts"],
        "RCT participants": summary["rct_participants"],
        "Other studies": summary["other_studies"],
        "Notebook": evidence.treatments["notebook"].fillna("").to_numpy(),
    })
    return reader_table(table, links={"Treatment": "Notebook"})


def studies_table(treatment_id: str | list[str]) -> ReaderTable:
    """The studies of one or several treatments (and their sub-modalities), oldest first.

    Displayed as a table for readers: a missing figure shows as an em dash, and each study's
    name links to its DOI (else its PubMed record) where the reference has one.
    """
    evidence = _evidence()
    studies = _studies_of(treatment_id, evidence)
    bib = evidence.references
    studies = studies.reset_index(drop=True)
    table = pd.DataFrame({
        "Study": [short_citation(bib[k]) for k in studies["bibkey"]],
        "Year": [bib[k].year if bib[k].year.isdigit() else UNDATED
                 for k in studies["bibkey"]],
        "Design": studies["design"].to_numpy(),
        "N": studies["n_randomized"].fillna(studies["n_enrolled"]),
        "Comparator": studies["comparator"].fillna("").to_numpy(),
        "Follow-up": studies["follow_up"].fillna("").to_numpy(),
        "Primary result": studies["primary_result"].map(RESULT_WORDS).to_numpy(),
        "Verified": studies["verified"].map({True: "yes", False: "partly"}).to_numpy(),
    })
    if studies["treatment_id"].nunique() > 1:
        names = evidence.treatments.set_index("id")["name"]
        table.insert(1, "Treatment", studies["treatment_id"].map(names).to_numpy())
    # The address the study's name links to (not shown as a column).
    table["Record"] = [_record_url(bib[k]) for k in studies["bibkey"]]
    # Undated studies ("not verified") sort after the dated ones.
    order = table["Year"].where(table["Year"] != UNDATED, "9999")
    table = table.assign(_order=order).sort_values(["_order", "Study"], kind="stable")
    return reader_table(table.drop(columns="_order").reset_index(drop=True),
                        links={"Study": "Record"})


def _record_url(ref: object) -> str | None:
    """The address of a reference's DOI, else of its PubMed record, else None."""
    if getattr(ref, "doi", None):
        return f"https://doi.org/{ref.doi}"
    if getattr(ref, "pmid", None):
        return f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"
    return None


#: Plain headings for the columns of the data tables a page shows as they are (exercise
#: starting points); :func:`plain_table` refuses a column without one.
PLAIN_HEADINGS: dict[str, str] = {
    "id": "Study",
    "study_id": "Study",
    "treatment_id": "Treatment",
    "design": "Design",
    "n_randomized": "People randomised",
    "n_enrolled": "People enrolled",
    "comparator": "Compared with",
    "follow_up": "Follow-up",
    "primary_result": "Main result",
    "arm": "Group",
    "role": "Role of the group",
    "n": "People analysed",
    "n_treatment": "People analysed (treatment)",
    "n_control": "People analysed (control)",
    "events": "People with the outcome",
    "mean": "Average (mean)",
    "sd": "Standard deviation",
    "measure": "Measured with",
    "domain": "Outcome",
    "timepoint": "When measured",
    "effect": "Difference between groups",
    "ci_low": "95% confidence interval from",
    "ci_high": "95% confidence interval to",
    "note": "Note",
}

_ROLE_WORDS = {"treatment": "treatment", "control": "control",
               "contrast": "difference between groups"}


def plain_table(frame: pd.DataFrame, evidence: Evidence | None = None) -> ReaderTable:
    """Rows of ``studies.csv`` or ``outcomes.csv`` as a table for readers.

    Each column gets its heading from :data:`PLAIN_HEADINGS`; a study id becomes the study's
    name (``Kemler et al. 2000``), a treatment id its name, and coded values words
    (``no_difference`` -> "no difference"). ``frame`` itself is not changed: code keeps the
    data's own column names (``studies.n_randomized``), as the data dictionary lists them.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns of the data tables, each one a key of :data:`PLAIN_HEADINGS`.
    evidence : Evidence, optional
        The data the ids are looked up in (default: the shipped data).

    Returns
    -------
    ReaderTable

    Raises
    ------
    KeyError
        A column has no plain heading (add it to :data:`PLAIN_HEADINGS`).

    Examples
    --------
    >>> studies = load_studies()
    >>> table = plain_table(studies[studies.id == "kemler2000spinal"][["id", "n_randomized"]])
    >>> list(table.columns), table.iloc[0, 0]
    (['Study', 'People randomised'], 'Kemler et al. 2000')
    """
    unknown = [str(c) for c in frame.columns if c not in PLAIN_HEADINGS]
    if unknown:
        raise KeyError(f"plain_table: no plain heading for column(s) {unknown}; known: "
                       f"{sorted(PLAIN_HEADINGS)}")
    evidence = evidence if evidence is not None else _evidence()
    table = frame.reset_index(drop=True).copy()
    labels = study_labels(evidence)
    names = dict(zip(evidence.treatments["id"], evidence.treatments["name"], strict=True))
    for column in ("id", "study_id"):
        if column in table:
            table[column] = table[column].map(lambda v: labels.get(v, v))
    if "treatment_id" in table:
        table["treatment_id"] = table["treatment_id"].map(lambda v: names.get(v, v))
    if "primary_result" in table:
        table["primary_result"] = table["primary_result"].map(lambda v: RESULT_WORDS.get(v, v))
    for column in ("role", "arm"):  # the arm of a reported between-group effect: "contrast"
        if column in table:
            table[column] = table[column].map(lambda v: _ROLE_WORDS.get(v, v))
    return reader_table(pd.DataFrame(table).rename(columns=PLAIN_HEADINGS))


def effects_table(treatment_id: str, domain: str = "pain", measure: str = "SMD"
                  ) -> pd.DataFrame:
    """Per-study effect sizes of a treatment: the first time point listed for each study."""
    evidence = _evidence()
    ids = set(_studies_of(treatment_id, evidence)["id"])
    rows = evidence.outcomes[evidence.outcomes["study_id"].isin(ids)
                             & (evidence.outcomes["domain"] == domain)]
    if rows.empty:
        return pd.DataFrame()
    effects = synthesis.effect_sizes(rows, measure=measure)
    order = {key: i for i, key in enumerate(rows["timepoint"].drop_duplicates())}
    effects = effects.assign(_order=effects["timepoint"].map(order))
    effects = effects.sort_values(["study_id", "_order"], kind="stable")
    return effects.drop_duplicates("study_id").drop(columns="_order").reset_index(drop=True)


def forest_plot(treatment_id: str, domain: str = "pain", measure: str = "SMD",
                method: str = "REML") -> Image:
    """Forest plot of a treatment's trials; pooled only where the rows are comparable."""
    effects = effects_table(treatment_id, domain, measure)
    if effects.empty:
        raise ValueError(f"no {domain} outcome data for {treatment_id!r}; "
                         "use evidence_timeline() instead")
    pooled = None
    if len(effects) >= 2 and effects["timepoint"].nunique() == 1:
        pooled = synthesis.pool_effects(effects, method=method)
    return as_image(plots.forest_plot(effects, pooled=pooled, labels=study_labels(),
                                      title=f"{domain.capitalize()}: {measure} by trial"),
                    tight=False)


def undated_note(labels: list[str]) -> str:
    """The sentence under a timeline naming the studies it leaves out (no verified year).

    A label that already ends with a full stop ("Johnson et al.") ends the sentence.

    Examples
    --------
    >>> undated_note(["Collins 2009", "Johnson et al."])
    'Not on the timeline (publication year not verified): Collins 2009; Johnson et al.'
    """
    text = "Not on the timeline (publication year not verified): " + "; ".join(
        map(md_text, labels))
    return text if text.endswith(".") else text + "."


def evidence_timeline(treatment_id: str | list[str]) -> Image | Markdown:
    """Timeline of the studies of one or several treatments: year, design, size, result."""
    evidence = _evidence()
    studies = _studies_of(treatment_id, evidence)
    labels = study_labels(evidence)
    bib = evidence.references
    years = [int(bib[k].year) if bib[k].year.isdigit() else None for k in studies["bibkey"]]
    undated = sorted(labels[i] for i, y in zip(studies["id"], years, strict=True) if y is None)
    if undated:
        display(Markdown(undated_note(undated)))
    studies = studies[[y is not None for y in years]]
    frame = pd.DataFrame({
        "label": studies["id"].map(labels),
        "year": [int(bib[k].year) for k in studies["bibkey"]],
        "design": studies["design"],
        "n": studies["n_randomized"].fillna(studies["n_enrolled"]),
        "primary_result": studies["primary_result"],
    }).sort_values(["year", "label"]).reset_index(drop=True)
    if frame.empty:
        return Markdown("No study with a verified publication year to place on a timeline.")
    return as_image(plots.evidence_timeline(frame))


def _trials_with_bias(treatment_id: str | list[str], evidence: Evidence
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The randomised trials of the treatment(s) and their rows of ``risk_of_bias.csv``."""
    from ..evidence.counts import RANDOMISED

    studies = _studies_of(treatment_id, evidence)
    trials = studies[studies["design"].isin(RANDOMISED)]
    table = evidence.risk_of_bias
    return trials, table[table["study_id"].isin(set(trials["id"]))]


def risk_of_bias(treatment_id: str | list[str]) -> Image | Markdown:
    """How much each randomised trial of a treatment can be trusted: a sentence and a chart.

    The sentence counts the trials at each overall level (from ``risk_of_bias.csv``); the
    chart shows each trial's judgement per domain and the share of participants at each
    level (:func:`crps_evidence.book.bias_figures.risk_of_bias_chart`).
    :func:`risk_of_bias_table` gives the same judgements in words.
    """
    from .bias_figures import risk_of_bias_chart

    evidence = _evidence()
    trials, table = _trials_with_bias(treatment_id, evidence)
    if trials.empty:
        return Markdown("No randomised trial of this treatment is in the collection, so there "
                        "is no trial to judge for risk of bias.")
    overall = table.loc[table["domain"] == "overall", "judgement"].value_counts()
    counts = [f"{words} in {_count_word(int(overall.get(level, 0)))}"
              for level, words in (("high", "high"), ("some concerns", "some concerns"),
                                   ("unclear", "unclear"),
                                   ("no information", "not possible to judge"), ("low", "low"))
              if overall.get(level, 0) or level in ("high", "low")]
    display(Markdown(f"Overall risk of bias of the "
                     f"{count_words(count_studies(trials), others=False)}: "
                     f"{', '.join(counts)}."))
    labels = study_labels(evidence)
    participants = dict(zip(trials["id"], study_size(trials).fillna(0).astype(float),
                            strict=True))
    images = [as_image(risk_of_bias_chart(part, labels, participants))
              for _, part in table.groupby("tool")]
    for image in images[:-1]:
        display(image)
    return images[-1]


def _count_word(count: int) -> str:
    return "none" if count == 0 else str(count)


def risk_of_bias_table(treatment_id: str | list[str]) -> ReaderTable:
    """Each randomised trial's risk-of-bias judgements in words, one row per trial.

    Displayed as a table for readers; who judged it is in the last column.
    """
    from .bias_figures import risk_of_bias_words

    evidence = _evidence()
    _, table = _trials_with_bias(treatment_id, evidence)
    labels = study_labels(evidence)
    bib = evidence.references
    frames = []
    for _, part in table.groupby("tool"):
        words = risk_of_bias_words(part, labels)
        words["Judged by"] = [short_citation(bib[j]) if j in bib else j
                              for j in words["Judged by"]]
        frames.append(words)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"Trial": []})
    return reader_table(frame, caption="Risk of bias of each randomised trial, in words")


def _records_html(records: pd.DataFrame) -> str:
    from ..current.trials import registry_url, status_words

    table = pd.DataFrame({
        "Registration": records["registry_id"].to_numpy(),
        "Title (as shown)": records["title"].to_numpy(),
        "Status when read": [status_words(s) for s in records["status_as_shown"]],
        "Read on": records["seen"].to_numpy(),
        "Where we read it": [("the registry's test copy" if "sandbox." in str(url)
                              else "the registry's page") if kind == "registry"
                             else "a copy on another site"
                             for kind, url in zip(records["source_kind"], records["source_url"],
                                                  strict=True)],
        "record": [registry_url(r) for r in records["registry_id"]],
        "read": records["source_url"].to_numpy(),
    })
    return to_html(table, missing="(none shown)",
                   links={"Registration": "record", "Where we read it": "read"})


def _registry_words(table: pd.DataFrame) -> dict[str, dict[str, str]]:
    """ClinicalTrials.gov codes in words: NOT_YET_RECRUITING -> not yet recruiting."""
    def words(code: object) -> str:
        if code == "NA":
            return "not applicable"
        return str(code).replace("_", " ").replace("PHASE", "phase ").lower().strip()

    columns = [c for c in ("status", "phase", "enrollment_type") if c in table]
    return {c: {code: words(code) for code in table[c].dropna().unique()} for c in columns}


def _code(text: object) -> str:
    """Text for a Markdown code span: one line, no backtick (so nothing can end the span)."""
    return " ".join(str(text).split()).replace("`", "'")


def trials_table(treatment_id: str) -> ReaderTable | HTML | Markdown:
    """Ongoing and recent trials: a registry snapshot, else registrations read by hand.

    An API snapshot (``data/trials/<id>.json``) comes first. Without one, the registrations
    someone read on stored copies of registry pages (``registry_records.csv``) are shown, with
    the status as the page showed it. Without either, a note says so in words for readers
    (a maintainer fetches a snapshot with ``crps-evidence trials <id> --refresh``).
    """
    from ..current.trials import load_trials, read_records

    table = load_trials(treatment_id)
    if table is not None:
        display(Markdown(
            f"Registry records fetched {md_text(table.attrs.get('fetched', '(date unknown)'))} "
            f"for the query `{_code(table.attrs.get('query', ''))}`: "
            "registrations, not results; read each "
            "record before citing it."))
        return reader_table(table, labels=_registry_words(table))
    records = read_records(treatment_id)
    if records.empty:
        return Markdown(
            "We found no trial registration for this treatment in CRPS in the pages we could "
            "read. We could not search the trial registry ClinicalTrials.gov itself when this "
            "page was made."
        )
    display(Markdown(
        f"{plural(len(records), 'registration')} read by hand on stored copies of registry "
        "pages (or of sites that copy them). We could not search the trial registry "
        "ClinicalTrials.gov itself when this page was made. **Statuses are as those pages "
        "showed them and may be years out of date.** A registration is not a result. For the "
        "latest, look the trial up on the registry itself."))
    return HTML(_records_html(records))


def _notebook_file(name: str) -> Path:
    here = Path(name)
    return here if here.is_file() else notebooks_dir() / name


def references(notebook: str) -> HTML:
    """The reference list of a notebook: every key its markdown cites, from ``references.bib``.

    The ``sources`` of the treatments the notebook covers (``treatments.notebook``), the pages
    their course, side effects and licensing were read on, are listed too.

    Each entry links to the collection's bibliography page and to its DOI and PubMed record.
    """
    keys = cited_keys(notebook_markdown(_notebook_file(notebook)))
    evidence = _evidence()
    shown = evidence.treatments[evidence.treatments["notebook"] == Path(notebook).name]
    keys |= {k for value in shown["sources"].dropna() for k in value.split()}
    bib = evidence.references
    refs = sorted((bib[k] for k in keys), key=lambda r: (format_reference(r).lower(), r.key))
    items = []
    for ref in refs:
        links = [f'<a href="bibliography.html#cite-{html.escape(ref.key)}">bibliography</a>']
        if ref.doi:
            links.append(f'<a href="https://doi.org/{html.escape(ref.doi)}">doi:'
                         f"{html.escape(ref.doi)}</a>")
        if ref.pmid:
            links.append(f'<a href="https://pubmed.ncbi.nlm.nih.gov/{html.escape(ref.pmid)}/">'
                         f"PMID {html.escape(ref.pmid)}</a>")
        items.append(f'<li id="ref-{html.escape(ref.key)}">{html.escape(format_reference(ref))} '
                     f'[{" · ".join(links)}]</li>')
    return HTML('<ol class="crps-references">\n' + "\n".join(items) + "\n</ol>")


# ------------------------------------------------------------------ counts and analyses

_DESIGN_GROUPS = (
    (("parallel RCT", "crossover RCT"), "randomised trial", "randomised trials"),
    (("RCT follow-up",), "long-term follow-up of a trial", "long-term follow-ups of trials"),
    (("non-randomised controlled",), "non-randomised controlled study",
     "non-randomised controlled studies"),
    (("cohort", "case series", "case report"), "study without a comparison group",
     "studies without a comparison group"),
)


def design_phrase(studies: pd.DataFrame) -> str:
    """The studies of a frame counted by kind, in words.

    Parameters
    ----------
    studies : pandas.DataFrame
        Rows of ``studies.csv`` (at least the ``design`` column).

    Returns
    -------
    str
        For example "2 randomised trials and 1 study without a comparison group";
        "no studies" for an empty frame. Designs outside the four groups (a systematic
        review, say) are not counted.

    Examples
    --------
    >>> design_phrase(pd.DataFrame({"design": ["parallel RCT", "case series", "cohort"]}))
    '1 randomised trial and 2 studies without a comparison group'
    """
    parts = [plural(int(studies["design"].isin(designs).sum()), one, many)
             for designs, one, many in _DESIGN_GROUPS if studies["design"].isin(designs).any()]
    if not parts:
        return "no studies"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def design_counts(treatment_id: str | list[str]) -> Markdown:
    """How many studies of each kind the collection holds for a treatment, in a sentence.

    Notebooks, exercise answers and the teaching guide show this instead of a typed count,
    so every page agrees with the data. A treatment with sub-modalities (ketamine and its
    cream) gets the total and the count for each part.

    Examples
    --------
    >>> print(design_counts("tadalafil").data)
    In this collection: 1 randomised trial.
    """
    evidence = _evidence()
    studies = _studies_of(treatment_id, evidence)
    text = f"In this collection: {design_phrase(studies)}."
    present = [t for t in _treatment_ids(treatment_id, evidence)
               if (studies["treatment_id"] == t).any()]
    if len(present) > 1:
        names = evidence.treatments.set_index("id")["name"]
        each = [f"{md_text(names[t])}, {design_phrase(studies[studies['treatment_id'] == t])}"
                for t in present]
        text += " By treatment: " + "; ".join(each) + "."
    return Markdown(text)


def _fmt(value: float, ratio: bool) -> str:
    """Two decimals; ratios below 0.1 keep two significant figures."""
    return f"{value:.2g}" if ratio and value < 0.1 else f"{value:.2f}"


def pooled_analysis(analysis_id: str) -> None:
    """Show one pooled analysis: its question, forest plot, result, checks and published ones.

    Everything comes from :func:`crps_evidence.stats.analyses.run_analysis`, the function the
    command ``crps-evidence analyses`` prints, so the page and the command agree.
    """
    from ..stats.analyses import run_analysis

    result = run_analysis(_evidence(), analysis_id)
    p, ratio = result.pooled, result.ratio
    measure = str(result.spec["effect_measure"])
    name = {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference",
            "MD": "mean difference", "SMD": "standardised mean difference"}[measure]
    display(Markdown(f"**Question.** {md_text(result.spec['question'])}"))
    outcome = {"incidence": "Developing CRPS"}.get(result.spec["domain"],
                                                    result.spec["domain"].capitalize())
    figure = plots.forest_plot(result.effects, pooled=p, labels=result.labels,
                               title=f"{outcome}: {name} by trial")
    display(as_image(figure, tight=False))
    how = "random effects (REML)" if p.method == "REML" else p.method
    if p.knapp_hartung:
        how += " with the Knapp-Hartung adjustment"
    s = result.summary()
    rows = [{
        "Analysis": f"This collection: {plural(p.k, 'trial')}, {how}",
        "Estimate": _fmt(s["estimate"], ratio),
        "95% CI": f"{_fmt(s['ci_low'], ratio)} to {_fmt(s['ci_high'], ratio)}",
        "Heterogeneity": f"I² = {p.i2:.0f}%, τ² = {p.tau2:.3f}",
    }, {
        "Analysis": "This collection, fixed effect (sensitivity check)",
        "Estimate": _fmt(s["fixed_estimate"], ratio),
        "95% CI": f"{_fmt(s['fixed_ci_low'], ratio)} to {_fmt(s['fixed_ci_high'], ratio)}",
        "Heterogeneity": "—",
    }]
    bib = _evidence().references
    for pub in result.published.itertuples():
        ci = ("—" if pd.isna(pub.ci_low) else f"{pub.ci_low:g} to {pub.ci_high:g}")
        label = "" if pd.isna(pub.effect_measure) else f" ({pub.effect_measure})"
        studies = "" if pd.isna(pub.k) else f"; {plural(int(pub.k), 'study', 'studies')}"
        rows.append({
            "Analysis": f"{short_citation(bib[pub.bibkey])}: {pub.comparison}{studies}",
            "Estimate": f"{pub.estimate:g}{label}",
            "95% CI": ci,
            "Heterogeneity": "—" if pd.isna(pub.i2) else f"I² = {pub.i2:g}%",
        })
    display(reader_table(pd.DataFrame(rows)))
    notes = [f"*Effects are {name}s of treatment against control"
             + ("; below 1 favours the treatment.*" if ratio and result.effects[
                 "lower_is_better"].iloc[0] else ".*")]
    if p.k < 3:
        notes.append("With fewer than three trials there is no prediction interval, and the "
                     "between-trial variance cannot be estimated reliably.")
    else:
        notes.append(f"95% prediction interval: {_fmt(s['pi_low'], ratio)} to "
                     f"{_fmt(s['pi_high'], ratio)}.")
    if not result.leave_one_out.empty:
        loo = result.leave_one_out
        notes.append("Leaving out one trial at a time, the estimate ranges from "
                     f"{_fmt(loo['estimate'].min(), ratio)} to "
                     f"{_fmt(loo['estimate'].max(), ratio)}.")
    notes.append(f"*Why these trials:* {md_text(result.spec['note'])}")
    display(Markdown("\n\n".join(notes)))


def pooled_analyses(treatment_id: str | list[str]) -> Markdown | None:
    """Show every pooled analysis ``analyses.csv`` holds for a treatment (and its parts).

    Each is shown as :func:`pooled_analysis` shows it, in the order of the file, so a new
    analysis row reaches its page with the next ``make execute``. Without one, a sentence says
    so and points to the methods page, where the reasons are given.
    """
    evidence = _evidence()
    ids = _treatment_ids(treatment_id, evidence)
    analyses = evidence.analyses[evidence.analyses["treatment_id"].isin(ids)]
    if analyses.empty:
        return Markdown("This collection has no pooled analysis (meta-analysis) of these "
                        'studies yet. The <a href="20-methods.ipynb">methods page</a> says, '
                        "treatment by treatment, what stands in the way of pooling.")
    for analysis_id in analyses["id"]:
        pooled_analysis(analysis_id)
    return None


def _for_readers(text: str) -> str:
    """A finding's text without the data file names meant for researchers.

    >>> _for_readers("MD -0.78; Zhu et al. 2024 (published_analyses.csv zhu2024-pain)")
    'MD -0.78; Zhu et al. 2024'
    >>> _for_readers("Finch 2009: outcomes.csv holds no figures per group")
    'Finch 2009: our data hold no figures per group'
    """
    text = re.sub(r"\s*\((?:published_)?analyses\.csv [^()]*\)", "", text)
    return text.replace("outcomes.csv holds", "our data hold")


def summary_of_findings(treatment_id: str | list[str] | None = None) -> ReaderTable | Markdown:
    """The summary of findings of a treatment (and its parts), or of every treatment.

    One row per comparison and outcome in GRADE's layout (outcome | studies (participants) |
    relative effect | absolute effect | certainty | what it means), straight from
    :func:`crps_evidence.stats.findings.summary_of_findings`: the one place every count,
    rating and statement of the collection comes from.
    """
    from ..stats.findings import plain_effect
    from ..stats.findings import summary_of_findings as findings

    evidence = _evidence()
    rows = findings(evidence)
    if treatment_id is not None:
        ids = set(_treatment_ids(treatment_id, evidence))
        rows = [f for f in rows if f.treatment_id in ids]
    if not rows:
        return Markdown("No study of this treatment is in the collection, so there is no "
                        "finding to summarise.")
    bib = evidence.references

    def who(key: str) -> str:
        return "ours" if key == "this collection" else (
            short_citation(bib[key]) if key in bib else key)

    frame = pd.DataFrame({
        "Treatment": [f.treatment for f in rows],
        "Outcome": [f"{f.outcome} ({f.comparison})" for f in rows],
        "Studies (participants)": [f.studies_text for f in rows],
        "Relative effect (95% CI)": [_for_readers(f.effect_text) for f in rows],
        "Absolute effect": [f.absolute_text for f in rows],
        "Certainty (rated by)": [f"{f.certainty} ({who(f.certainty_by)})" for f in rows],
        "What it means": [f"{f.brief_statement} {plain_effect(f)}" for f in rows],
    })
    if treatment_id is not None and len({f.treatment_id for f in rows}) == 1:
        frame = frame.drop(columns="Treatment")
    return reader_table(frame, caption="Summary of findings: what the studies show, how sure "
                        "we can be, and what it means")


def at_a_glance(treatment_ids: list[str]) -> ReaderTable:
    """One row per treatment: certainty (who rated it), the trials held and what they found."""
    from .overview import certainty_labels, landing_table

    evidence = _evidence()
    table = landing_table(evidence)
    table = table.assign(Certainty=certainty_labels(evidence), _id=evidence.treatments["id"]
                         .to_numpy())
    table = table[table["_id"].isin(treatment_ids)]
    order = {t: i for i, t in enumerate(treatment_ids)}
    table = table.iloc[table["_id"].map(order).argsort()]
    shown = table[["Treatment", "Certainty", "What the studies show", "Main risks"]]
    return reader_table(shown.reset_index(drop=True), missing="not reported")


def certainty_table(treatment_id: str | list[str]) -> ReaderTable | Markdown:
    """Every certainty rating held for a treatment: published ones read, and ours with why.

    Published ratings come first. For our own, the domains that rate the evidence down are
    listed with their reasons, so a reader sees why, and any disagreement is visible side by
    side.
    """
    from ..stats.certainty import OURS
    from ..stats.grade import DOMAINS

    evidence = _evidence()
    ids = _treatment_ids(treatment_id, evidence)
    rows = evidence.certainty[evidence.certainty["treatment_id"].isin(ids)]
    if rows.empty:
        return Markdown("No studies found, so there is nothing to rate.")
    names = evidence.treatments.set_index("id")["name"]
    bib = evidence.references
    rows = rows.assign(_ours=rows["rated_by"] == OURS).sort_values(
        ["_ours"], kind="stable")
    records = []
    for row in rows.itertuples():
        if row.rated_by == OURS:
            who = "Our assessment (GRADE method), not a published rating"
            down = [f"{d.replace('_', ' ')} ({getattr(row, d)}): {getattr(row, d + '_reason')}"
                    for d in DOMAINS if getattr(row, d) != "no concern"]
            why = ("Rated down for " + "; ".join(down)) if down else "Not rated down"
            start = ("randomised trials start at high" if "RCT" in " ".join(
                evidence.studies.set_index("id").loc[str(row.studies).split(), "design"])
                and "uncontrolled" != row.comparison_type else "other designs start at low")
            why = f"{why}. ({start.capitalize()}.)"
        else:
            who = f"{short_citation(bib[row.rated_by])} (published)"
            why = "" if pd.isna(row.note) else row.note
        records.append({
            "Treatment": names[row.treatment_id],
            "Rated by": who,
            "Comparison": row.comparison,
            "Outcome": row.outcome,
            "Certainty": row.certainty,
            "Why": why,
        })
    table = pd.DataFrame(records)
    if table["Treatment"].nunique() == 1:
        table = table.drop(columns="Treatment")
    return reader_table(table)


def analyses_summary() -> ReaderTable:
    """Every pooled analysis of ``data/analyses.csv`` in one table, as the command prints it."""
    from ..stats.analyses import run_all

    evidence = _evidence()
    names = evidence.treatments.set_index("id")["name"]
    bib = evidence.references
    rows = []
    for result in run_all(evidence):
        s, ratio = result.summary(), result.ratio
        published = "; ".join(
            f"{short_citation(bib[p.bibkey])}: {p.estimate:g}"
            + ("" if pd.isna(p.ci_low) else f" ({p.ci_low:g} to {p.ci_high:g})")
            for p in result.published.itertuples()) or "none read"
        rows.append({
            "Treatment": names[s["treatment_id"]],
            "Question": s["question"],
            "Trials (participants)": f"{s['k']} ({s['participants']})",
            "Pooled estimate (95% CI)": f"{s['measure']} {_fmt(s['estimate'], ratio)} "
                                        f"({_fmt(s['ci_low'], ratio)} to "
                                        f"{_fmt(s['ci_high'], ratio)}), {s['method']}",
            "Published meta-analyses": published,
            "Notebook": evidence.treatments.set_index("id").loc[s["treatment_id"], "notebook"],
        })
    return reader_table(pd.DataFrame(rows), links={"Treatment": "Notebook"})


def evidence_map() -> None:
    """The evidence map of every treatment, and under it a table with the same information.

    The map's labels are small on a phone, so the table gives every marker's number with the
    treatment's name, certainty, invasiveness, category and participants in randomised
    trials: everything the map shows, in words.
    """
    from .plots import INVASIVENESS, evidence_map_key

    evidence = _evidence()
    summary = overview.treatment_summary(evidence, roll_up=False)
    display(as_image(plots.evidence_map(summary, key=False)))
    key = evidence_map_key(summary)
    labels = dict(zip(evidence.treatments["name"], overview.certainty_labels(evidence),
                      strict=True))
    notebooks = dict(zip(evidence.treatments["name"], evidence.treatments["notebook"],
                         strict=True))
    invasiveness = [" ".join(label.replace(",\n", ", ").split("\n", 1)[1].split())
                    for label in INVASIVENESS]
    table = pd.DataFrame({
        "Treatment": key["name"].to_numpy(),  # first: a phone shows it as the card's title
        "Marker": key["number"].to_numpy(),
        "Certainty": key["name"].map(labels).to_numpy(),
        "Invasiveness": [f"{int(x)}: {invasiveness[int(x)]}" for x in key["invasiveness"]],
        "Category": key["category"].to_numpy(),
        "Randomised participants": pd.to_numeric(
            key["rct_participants"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "Notebook": key["name"].map(notebooks).to_numpy(),
    })
    display(reader_table(table, links={"Treatment": "Notebook"}))
