"""The pooled analyses of real CRPS trials, from their specification in ``analyses.csv``.

One row of ``data/analyses.csv`` states a question (treatment, kind of comparison, outcome
domain), the trials that answer it, the time point and arms used from each, the effect measure
and the random-effects method. :func:`run_analysis` computes it; the book's pages, the command
``crps-evidence analyses`` and its JSON output all call it, so they cannot disagree.

Each result carries the per-study effects and variances that went in (so the analysis can be
re-run in another tool such as R's metafor), the main random-effects estimate, a fixed-effect
estimate and, for three or more trials, a leave-one-out analysis as sensitivity checks, and the
published meta-analyses of the same question from ``published_analyses.csv``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import AnalysisError
from ..evidence.references import short_citation
from ..evidence.tables import Evidence
from .synthesis import PoolResult, effect_sizes, pool

__all__ = ["AnalysisResult", "analyses_table", "run_all", "run_analysis"]

_RATIO = {"logRR", "logOR"}


def _pairs(text: object) -> dict[str, str]:
    """``"a=x | b=y"`` -> ``{"a": "x", "b": "y"}`` (empty for a missing value)."""
    if not isinstance(text, str) or not text.strip():
        return {}
    out = {}
    for part in text.split(" | "):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise AnalysisError(f"cannot read {part!r}: expected 'study_id=value'")
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class AnalysisResult:
    """A pooled analysis with its inputs, sensitivity checks and published counterparts."""

    spec: dict[str, Any]
    effects: pd.DataFrame
    pooled: PoolResult
    fixed: PoolResult
    leave_one_out: pd.DataFrame
    published: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The analysis id (``analyses.id``)."""
        return str(self.spec["id"])

    @property
    def ratio(self) -> bool:
        """Whether effects are log risk or odds ratios (shown exponentiated)."""
        return str(self.effects["effect_measure"].iloc[0]) in _RATIO

    def shown(self, value: float) -> float:
        """A value on the reader's scale (ratios exponentiated)."""
        return math.exp(value) if self.ratio else value

    def summary(self) -> dict[str, Any]:
        """One flat record: what was pooled and the result, on the reader's scale."""
        p = self.pooled
        measure = str(self.spec["effect_measure"])
        return {
            "id": self.id,
            "treatment_id": self.spec["treatment_id"],
            "question": self.spec["question"],
            "comparison_type": self.spec["comparison_type"],
            "domain": self.spec["domain"],
            "measure": measure,
            "method": p.method + (" + Knapp-Hartung" if p.knapp_hartung else ""),
            "k": p.k,
            "participants": int(self.effects[["n_treatment", "n_control"]].sum().sum()),
            "estimate": self.shown(p.estimate),
            "ci_low": self.shown(p.ci_low),
            "ci_high": self.shown(p.ci_high),
            "tau2": p.tau2,
            "i2": p.i2,
            "pi_low": self.shown(p.pi_low) if p.k >= 3 else None,
            "pi_high": self.shown(p.pi_high) if p.k >= 3 else None,
            "fixed_estimate": self.shown(self.fixed.estimate),
            "fixed_ci_low": self.shown(self.fixed.ci_low),
            "fixed_ci_high": self.shown(self.fixed.ci_high),
        }

    def to_json(self) -> dict[str, Any]:
        """The summary plus the per-study inputs (analysis scale) and published results."""
        studies = [
            {
                "study_id": row.study_id,
                "label": self.labels.get(row.study_id, row.study_id),
                "timepoint": row.timepoint,
                "effect": row.effect,
                "variance": row.variance,
                "n_treatment": None if pd.isna(row.n_treatment) else int(row.n_treatment),
                "n_control": None if pd.isna(row.n_control) else int(row.n_control),
                "conversion": row.conversion,
                "weight_percent": w,
            }
            for row, w in zip(self.effects.itertuples(), self.pooled.weights, strict=True)
        ]
        scale = ("natural log of the ratio" if self.ratio
                 else "treatment minus control, raw units" if self.spec["effect_measure"] == "MD"
                 else "treatment minus control")
        return {
            **self.summary(),
            "effect_scale": scale,
            "note": self.spec["note"],
            "studies": studies,
            "leave_one_out": self.leave_one_out.to_dict(orient="records"),
            "published": self.published.to_dict(orient="records"),
        }


def _effects(evidence: Evidence, spec: dict[str, Any]) -> pd.DataFrame:
    ids = str(spec["studies"]).split()
    known = set(evidence.studies["id"])
    if unknown := [s for s in ids if s not in known]:
        raise AnalysisError(f"analysis {spec['id']!r}: unknown studies {unknown}")
    timepoints = _pairs(spec.get("timepoints"))
    arms = {k: tuple(v.split("/", 1)) for k, v in _pairs(spec.get("arms")).items()}
    outcomes = evidence.outcomes
    designs = dict(zip(evidence.studies["id"], evidence.studies["design"], strict=True))
    frames = []
    for study in ids:
        rows = outcomes[(outcomes["study_id"] == study) & (outcomes["domain"] == spec["domain"])]
        if rows.empty:
            raise AnalysisError(f"analysis {spec['id']!r}: no {spec['domain']} rows for {study}")
        wanted = timepoints.get(study, rows["timepoint"].iloc[0])
        rows = rows[rows["timepoint"] == wanted]
        if rows.empty:
            raise AnalysisError(f"analysis {spec['id']!r}: {study} has no time point {wanted!r}")
        table = effect_sizes(rows, str(spec["effect_measure"]), arms=arms or None,
                             designs=designs)
        if table.empty:
            reason = table.attrs["skipped"][0]["reason"] if table.attrs["skipped"] else "?"
            raise AnalysisError(f"analysis {spec['id']!r}: no usable effect for {study} "
                                f"({reason})")
        frames.append(table)
    effects = pd.concat(frames, ignore_index=True)
    if effects["lower_is_better"].nunique() > 1:
        raise AnalysisError(f"analysis {spec['id']!r} mixes outcome directions")
    if spec["effect_measure"] == "MD" and effects["measure"].nunique() > 1:
        raise AnalysisError(f"analysis {spec['id']!r}: mean differences on different "
                            f"instruments {sorted(effects['measure'])}; use SMD")
    return effects


def run_analysis(evidence: Evidence, analysis_id: str) -> AnalysisResult:
    """Compute one analysis of ``analyses.csv`` from the loaded data.

    Raises
    ------
    AnalysisError
        For an unknown id, or when a named study has no usable effect.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> evidence = load_all()
    >>> result = run_analysis(evidence, evidence.analyses["id"].iloc[0])
    >>> result.pooled.k >= 2
    True
    """
    specs = evidence.analyses.set_index("id", drop=False)
    if analysis_id not in specs.index:
        raise AnalysisError(f"unknown analysis {analysis_id!r}; known: {sorted(specs.index)}")
    spec = {k: (None if pd.isna(v) else v) for k, v in specs.loc[analysis_id].items()}
    effects = _effects(evidence, spec)
    y, v = effects["effect"].to_numpy(float), effects["variance"].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FewStudiesWarning: said on every page instead
        pooled = pool(y, v, method=str(spec["method"]), knapp_hartung=bool(spec["knapp_hartung"]))
        fixed = pool(y, v, method="FE")
        loo = []
        if len(effects) >= 3:
            for i, study in enumerate(effects["study_id"]):
                keep = [j for j in range(len(effects)) if j != i]
                r = pool(y[keep], v[keep], method=str(spec["method"]),
                         knapp_hartung=bool(spec["knapp_hartung"]))
                loo.append({"omitted": study, "estimate": r.estimate, "ci_low": r.ci_low,
                            "ci_high": r.ci_high})
    published_ids = str(spec.get("published") or "").split()
    published = evidence.published_analyses
    published = published[published["id"].isin(published_ids)].reset_index(drop=True)
    bib = evidence.references
    labels = {row.id: short_citation(bib[row.bibkey]) for row in evidence.studies.itertuples()
              if row.id in set(effects["study_id"])}
    result = AnalysisResult(spec, effects, pooled, fixed, pd.DataFrame(loo), published, labels)
    if result.ratio and not result.leave_one_out.empty:
        for column in ("estimate", "ci_low", "ci_high"):
            result.leave_one_out[column] = result.leave_one_out[column].map(math.exp)
    return result


def run_all(evidence: Evidence) -> list[AnalysisResult]:
    """Every analysis of ``analyses.csv``, in file order."""
    return [run_analysis(evidence, i) for i in evidence.analyses["id"]]


def analyses_table(results: list[AnalysisResult]) -> pd.DataFrame:
    """One row per analysis: question, method, k, estimate, CI, tau², I², prediction interval.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> list(analyses_table(run_all(load_all())).columns)[:3]
    ['id', 'treatment_id', 'question']
    """
    return pd.DataFrame([r.summary() for r in results])
