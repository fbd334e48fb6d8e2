"""Side-by-side summaries across treatments (the evidence overview and the key-points boxes)."""

from __future__ import annotations

import pandas as pd

from .data import Evidence

RANDOMISED = ("parallel RCT", "crossover RCT")
CERTAINTY_ORDER = ["high", "moderate", "low", "very low", "not rated"]


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
        Columns ``id, name, parent, category, invasiveness, access, certainty, rcts,
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
    rows = []
    for treatment in treatments.itertuples():
        ids = {treatment.id}
        if roll_up:
            ids |= set(parent_of[parent_of == treatment.id].index)
        own = studies[studies["treatment_id"].isin(ids)]
        rcts = own[own["design"].isin(RANDOMISED)]
        results = rcts["primary_result"].value_counts()
        rows.append({
            "id": treatment.id,
            "name": treatment.name,
            "parent": treatment.parent,
            "category": treatment.category,
            "invasiveness": treatment.invasiveness,
            "access": treatment.access,
            "certainty": treatment.certainty,
            "rcts": len(rcts),
            "rct_participants": int(rcts["n_randomized"].fillna(0).sum()),
            "rcts_size_unknown": int(rcts["n_randomized"].isna().sum()),
            "other_studies": len(own) - len(rcts),
            "favours_treatment": int(results.get("favours_treatment", 0)),
            "no_difference": int(results.get("no_difference", 0)),
            "favours_control": int(results.get("favours_control", 0)),
        })
    return pd.DataFrame(rows)
