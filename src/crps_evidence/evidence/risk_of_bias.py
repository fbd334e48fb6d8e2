"""Risk of bias per randomised trial: the tools' domains and the checks on ``risk_of_bias.csv``.

Each randomised trial of ``studies.csv`` has one judgement per domain of one tool and an
overall judgement: our own with RoB 2 (Sterne et al. 2019), or a review's published RoB 1
table taken as it is. The two tools are never mixed or converted.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from .counts import RANDOMISED  # the designs that need risk-of-bias rows
from .references import Bibliography

OURS = "this collection"

#: Each tool's domains (in the order a figure shows them, ``overall`` last) and judgements.
DOMAINS = {
    "RoB 2": ("randomisation process", "deviations from intended interventions",
              "missing outcome data", "measurement of the outcome",
              "selection of the reported result", "overall"),
    "RoB 1": ("random sequence generation", "allocation concealment",
              "blinding of participants and personnel", "blinding of outcome assessment",
              "incomplete outcome data", "selective reporting", "other bias", "overall"),
}
JUDGEMENTS = {
    "RoB 2": ("low", "some concerns", "high", "no information"),
    "RoB 1": ("low", "unclear", "high"),
}


def rob2_overall(judgements: list[str]) -> str:
    """RoB 2's overall judgement from its domain judgements.

    High if any domain is high, low only if every domain is low, otherwise some concerns (a
    domain without information cannot be called low). When no domain could be judged at all,
    neither can the trial: no information.

    >>> rob2_overall(["no information"] * 5)
    'no information'
    >>> rob2_overall(["low", "low", "no information", "low", "low"])
    'some concerns'
    >>> rob2_overall(["low", "high", "some concerns", "low", "low"])
    'high'
    """
    if all(j == "no information" for j in judgements):
        return "no information"
    if "high" in judgements:
        return "high"
    if all(j == "low" for j in judgements):
        return "low"
    return "some concerns"


def check_risk_of_bias(studies: pd.DataFrame, table: pd.DataFrame,
                       bib: Bibliography) -> list[str]:
    """Every randomised trial has a full set of judgements, each one well-formed and its own.

    Reported: a trial without rows, rows for a study that is not a randomised trial, a
    domain missing or repeated, a domain or judgement foreign to the tool, a RoB 2 overall
    that does not follow from its domains, a ``judged_by`` that is neither ``this collection``
    nor a reference, a support sentence shared with another trial.
    """
    problems: list[str] = []
    where = "risk_of_bias.csv"
    trials = set(studies.loc[studies["design"].isin(RANDOMISED), "id"])
    designs = dict(zip(studies["id"], studies["design"], strict=True))
    seen: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    supports: dict[str, set[str]] = defaultdict(set)
    for line, row in zip(range(2, len(table) + 2), table.itertuples(index=False), strict=True):
        at = f"{where}, line {line}, study {row.study_id!r}"
        if row.study_id not in trials:
            problems.append(f"{at}: field 'study_id': design {designs.get(row.study_id)!r} is "
                            "not a randomised trial (expected parallel RCT or crossover RCT)")
            continue
        if row.domain not in DOMAINS[row.tool]:
            problems.append(f"{at}: field 'domain': {row.domain!r} is not a {row.tool} domain")
        if row.judgement not in JUDGEMENTS[row.tool]:
            problems.append(f"{at}: field 'judgement': {row.judgement!r} is not a {row.tool} "
                            f"judgement (expected one of {', '.join(JUDGEMENTS[row.tool])})")
        if row.judged_by != OURS and row.judged_by not in bib:
            problems.append(f"{at}: field 'judged_by': {row.judged_by!r} is neither "
                            f"{OURS!r} nor a key in references.bib")
        key = (row.study_id, row.tool, row.judged_by)
        if row.domain in seen[key]:
            problems.append(f"{at}: field 'domain': {row.domain!r} appears twice")
        seen[key][row.domain] = row.judgement
        supports[" ".join(str(row.support).split()).lower()].add(row.study_id)
    for trial in sorted(trials - {k[0] for k in seen}):
        problems.append(f"{where}: randomised trial {trial!r} (studies.csv) has no "
                        "risk-of-bias rows")
    for (trial, tool, judged_by), found in sorted(seen.items()):
        missing = [d for d in DOMAINS[tool] if d not in found]
        if missing:
            problems.append(f"{where}: study {trial!r} ({tool}, {judged_by}): no judgement for "
                            f"{', '.join(missing)}")
        elif tool == "RoB 2":
            expected = rob2_overall([found[d] for d in DOMAINS[tool][:-1]])
            if found["overall"] != expected:
                problems.append(f"{where}: study {trial!r}: overall {found['overall']!r} does "
                                f"not follow from its domains (RoB 2 gives {expected!r})")
    for text, owners in sorted(supports.items()):
        if len(owners) > 1:
            problems.append(f"{where}: field 'support': the same text stands for "
                            f"{', '.join(sorted(owners))}: {text[:80]!r}")
    return problems
