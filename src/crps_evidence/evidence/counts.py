"""How the collection counts studies and participants: one rule, used on every surface.

A study's size is the number randomised, else the number enrolled (some reports give only
how many took part); a study with neither has no known size and is counted as such, never as
zero people. "Randomised trials" are parallel and crossover RCTs; a follow-up report of a
trial is an "other study" (it adds no new people), as are cohorts, case series and
non-randomised comparisons.

Examples
--------
>>> import pandas as pd
>>> studies = pd.DataFrame({"design": ["parallel RCT", "crossover RCT", "case series"],
...                         "n_randomized": [40, None, None], "n_enrolled": [None, None, 12]})
>>> count_studies(studies)
StudyCount(randomised=2, participants=40, size_unknown=1, other=1)
>>> count_words(count_studies(studies))
'2 randomised trials (at least 40 people) and 1 other study'
>>> count_words(count_studies(studies.iloc[2:])), count_words(count_studies(studies.iloc[:0]))
('no randomised trial; 1 other study', 'no studies')
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["RANDOMISED", "StudyCount", "count_studies", "count_words", "plural", "study_size"]

#: Designs counted as randomised trials.
RANDOMISED = frozenset({"parallel RCT", "crossover RCT"})


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``"1 trial"``, ``"2 trials"``; ``many`` for irregular plurals (``"studies"``).

    >>> plural(1, "study", "studies"), plural(1208, "participant")
    ('1 study', '1,208 participants')
    """
    word = singular if count == 1 else (many or singular + "s")
    return f"{count:,} {word}"


def study_size(studies: pd.DataFrame) -> pd.Series:
    """Each study's size: ``n_randomized``, else ``n_enrolled``, else missing."""
    return studies["n_randomized"].astype("Float64").fillna(
        studies["n_enrolled"].astype("Float64"))


@dataclass(frozen=True)
class StudyCount:
    """Randomised trials, their participants (and how many have no known size), others."""

    randomised: int
    participants: int
    size_unknown: int
    other: int


def count_studies(studies: pd.DataFrame) -> StudyCount:
    """Count the randomised trials, their participants and the other studies of ``studies``."""
    trials = studies[studies["design"].isin(RANDOMISED)]
    sizes = study_size(trials)
    return StudyCount(randomised=len(trials), participants=int(sizes.fillna(0).sum()),
                      size_unknown=int(sizes.isna().sum()), other=len(studies) - len(trials))


def count_words(count: StudyCount, others: bool = True) -> str:
    """A count in words, as every page states it (see the module's example).

    Written for patients: "people", not "participants" (each trial counted by its size,
    :func:`study_size`); "at least" when some trial's size is not known.
    """
    if not count.randomised:
        if not count.other:
            return "no studies"
        text = "no randomised trial"
        return text + (f"; {plural(count.other, 'other study', 'other studies')}"
                       if others else "")
    text = plural(count.randomised, "randomised trial")
    if count.participants and count.size_unknown:
        text += f" (at least {plural(count.participants, 'person', 'people')})"
    elif count.participants:
        text += f" ({plural(count.participants, 'person', 'people')})"
    elif count.size_unknown:
        text += " (size unknown)"
    if others and count.other:
        text += f" and {plural(count.other, 'other study', 'other studies')}"
    return text
