"""The collection for other tools: the tables, each pooled analysis for R's metafor, references.

``crps-evidence export --to FORMAT DIR`` calls :func:`export`:

- ``csv``: every table of the data package, validated, with ``datapackage.json``;
- ``json``: every table as a JSON list of rows (``<table>.json``);
- ``metafor``: per analysis of ``analyses.csv``, ``<id>.csv`` with each study's effect
  (``yi``, on the log scale for ratios) and variance (``vi``) as the package computed them,
  and ``<id>.R``, which runs the same model in metafor (``escalc`` + ``rma`` with the same
  estimator and test) and prints the estimate, its 95% CI and tau² beside the values this
  package found, so a re-run shows at once whether the two agree;
- ``ris`` and ``csl-json``: ``references.bib`` for reference managers.

Every file is written whole or not at all; nothing is dated, so an export of unchanged data is
byte-identical.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ._files import atomic_write_text
from .evidence.paths import data_dir
from .evidence.references import Bibliography, Reference
from .evidence.tables import TABLES, Evidence, load_all
from .stats.analyses import AnalysisResult, run_all

__all__ = ["FORMATS", "export", "metafor_inputs", "metafor_script", "to_csl_json", "to_ris"]

FORMATS = ("csv", "json", "metafor", "ris", "csl-json")

#: Our estimator names -> metafor's ``method``.
METAFOR_METHOD = {"REML": "REML", "DL": "DL", "PM": "PM", "FE": "EE"}


def metafor_inputs(result: AnalysisResult) -> str:
    """The per-study inputs of one analysis as CSV: study, yi, vi, group sizes, conversion."""
    effects = result.effects
    frame = pd.DataFrame({
        "study": [result.labels.get(s, s) for s in effects["study_id"]],
        "study_id": effects["study_id"].to_numpy(),
        "yi": effects["effect"].to_numpy(float),
        "vi": effects["variance"].to_numpy(float),
        "n_treatment": effects["n_treatment"].to_numpy(),
        "n_control": effects["n_control"].to_numpy(),
        "conversion": effects["conversion"].to_numpy(),
    })
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.17g")


def metafor_script(result: AnalysisResult) -> str:
    """An R script that re-runs one analysis in metafor and compares it with ours.

    Examples
    --------
    >>> from crps_evidence.stats.analyses import run_analysis
    >>> evidence = load_all()
    >>> script = metafor_script(run_analysis(evidence, evidence.analyses["id"].iloc[0]))
    >>> "rma(yi, vi, data = d, method =" in script
    True
    """
    spec, pooled = result.spec, result.pooled
    analysis_id = str(spec["id"])
    method = METAFOR_METHOD[str(spec["method"])]
    test = "knha" if pooled.knapp_hartung else "z"
    back = "exp" if result.ratio else "identity"
    summary = result.summary()
    ours = ", ".join(f"{name} = {_r_number(summary[key])}" for name, key in (
        ("estimate", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high"),
        ("tau2", "tau2")))
    question = " ".join(str(spec["question"]).split())
    scale = ("log " + str(spec["effect_measure"]) if result.ratio
             else str(spec["effect_measure"]))
    return f"""# {analysis_id}: {question}
# Re-runs the pooled analysis of crps-evidence in R's metafor. yi and vi in {analysis_id}.csv
# are each study's effect ({scale}, treatment minus control) and its variance as the package
# computed them from the collection's data (the column conversion says how).
# Run from this folder: Rscript {analysis_id}.R
suppressPackageStartupMessages(library(metafor))
d <- read.csv("{analysis_id}.csv")
d <- escalc(measure = "GEN", yi = yi, vi = vi, data = d)
fit <- rma(yi, vi, data = d, method = "{method}", test = "{test}")
print(fit)
back <- {back}
metafor <- c(estimate = back(fit$b[[1]]), ci_low = back(fit$ci.lb), ci_high = back(fit$ci.ub),
             tau2 = fit$tau2)
ours <- c({ours})
print(rbind(metafor = metafor, crps_evidence = ours), digits = 10)
cat(sprintf("largest difference: %.3g\\n", max(abs(metafor - ours))))
"""


def _r_number(value: float) -> str:
    return "NA" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else repr(float(value))


def to_ris(bib: Bibliography) -> str:
    """``references.bib`` as RIS (one record per entry, in key order).

    Examples
    --------
    >>> from crps_evidence import load_references
    >>> to_ris(load_references()).startswith("TY  - ")
    True
    """
    kinds = {"article": "JOUR", "book": "BOOK", "incollection": "CHAP", "inproceedings": "CPAPER",
             "misc": "GEN", "techreport": "RPRT", "phdthesis": "THES", "online": "ELEC"}
    records = []
    for key in sorted(bib):
        ref = bib[key]
        lines = [("TY", kinds.get(ref.entry_type.lower(), "GEN")), ("ID", key)]
        lines += [("AU", author) for author in ref.authors]
        for tag, name in (("TI", "title"), ("T2", "journal"), ("T2", "booktitle"),
                          ("PB", "publisher"), ("PY", "year"), ("VL", "volume"),
                          ("IS", "number"), ("DO", "doi"), ("UR", "url")):
            if ref.get(name):
                lines.append((tag, ref.get(name)))
        pages = ref.get("pages").replace("--", "-")
        if pages:
            first, _, last = pages.partition("-")
            lines.append(("SP", first))
            if last:
                lines.append(("EP", last))
        if ref.get("pmid"):
            lines.append(("AN", f"PMID:{ref.get('pmid')}"))
        lines.append(("ER", ""))
        records.append("\n".join(f"{tag}  - {value}".rstrip() for tag, value in lines))
    return "\n\n".join(records) + "\n"


def _csl_item(ref: Reference) -> dict[str, object]:
    kinds = {"article": "article-journal", "book": "book", "incollection": "chapter",
             "inproceedings": "paper-conference", "techreport": "report", "phdthesis": "thesis"}
    item: dict[str, object] = {"id": ref.key, "type": kinds.get(ref.entry_type.lower(),
                                                                 "document")}
    authors = []
    for name in ref.authors:
        family, _, given = name.partition(", ")
        authors.append({"family": family, "given": given} if given else {"literal": family})
    if authors:
        item["author"] = authors
    for csl, name in (("title", "title"), ("container-title", "journal"),
                      ("container-title", "booktitle"), ("publisher", "publisher"),
                      ("volume", "volume"), ("issue", "number"), ("DOI", "doi"),
                      ("URL", "url"), ("PMID", "pmid")):
        if ref.get(name):
            item[csl] = ref.get(name)
    if ref.get("pages"):
        item["page"] = ref.get("pages").replace("--", "-")
    if ref.get("year").isdigit():
        item["issued"] = {"date-parts": [[int(ref.get("year"))]]}
    return item


def to_csl_json(bib: Bibliography) -> str:
    """``references.bib`` as CSL-JSON (Zotero, Pandoc, citeproc), in key order."""
    return json.dumps([_csl_item(bib[key]) for key in sorted(bib)], indent=1,
                      ensure_ascii=False) + "\n"


def _table_json(frame: pd.DataFrame) -> str:
    rows = json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"


def export(to: str, folder: str | Path, evidence: Evidence | None = None) -> list[Path]:
    """Write the collection in format ``to`` into ``folder``; return the files written.

    Parameters
    ----------
    to : {"csv", "json", "metafor", "ris", "csl-json"}
        What to write (see the module docstring).
    folder : str or Path
        Created if missing; files of the same names are replaced.
    evidence : Evidence, optional
        Loaded data; defaults to the project's.

    Raises
    ------
    ValueError
        An unknown format.
    """
    if to not in FORMATS:
        raise ValueError(f"unknown export format {to!r}; expected one of {', '.join(FORMATS)}")
    evidence = evidence if evidence is not None else load_all()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    source = evidence.folder or data_dir()
    if to in ("csv", "json"):
        from .evidence import tables

        for table in TABLES:  # each loaded, so each is validated against its schema
            frame = getattr(tables, f"load_{table}")(source / f"{table}.csv")
            if to == "csv":
                files[f"{table}.csv"] = (source / f"{table}.csv").read_text(encoding="utf-8")
            else:
                files[f"{table}.json"] = _table_json(frame)
        if to == "csv":
            files["datapackage.json"] = (source / "datapackage.json").read_text(encoding="utf-8")
    elif to == "metafor":
        for result in run_all(evidence):
            analysis_id = str(result.spec["id"])
            files[f"{analysis_id}.csv"] = metafor_inputs(result)
            files[f"{analysis_id}.R"] = metafor_script(result)
    elif to == "ris":
        files["references.ris"] = to_ris(evidence.references)
    else:
        files["references.json"] = to_csl_json(evidence.references)
    written = []
    for name, text in files.items():
        atomic_write_text(folder / name, text)
        written.append(folder / name)
    return written
