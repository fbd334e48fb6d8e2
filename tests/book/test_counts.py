"""Every count of trials and participants a reader meets agrees with the data.

Reads the built HTML of each treatment page, the evidence overview, the teaching guide, the
home page and each handout, finds every
number followed by a word for studies or people ("3 randomised trials", "60 participants",
"two trials", "1,460 people") and checks it against counts recomputed here from the CSV
files, independently of the package:

- for each treatment on the page, alone, with its parts, and all of the page's together:
  the number of studies, of randomised trials and of other studies, and the participants
  in each (randomised, else enrolled);
- for each rating of those treatments in ``certainty.csv`` that names its studies: the
  same counts over those studies;
- the size of any one study of the collection;
- a number written in a data row of the page's treatments (a study's result, a rating's
  note, the treatment's side effects, a review's pooled analysis, a registry record), where
  the page quotes the row;
- the counts listed in ``quoted_counts.csv``: counts quoted from a cited source that the
  data tables do not hold (a review's number of trials, a study of another condition),
  each with the source and why. An entry that no longer appears on its page fails too.

"in 100" figures (risks per 100 people) are not counts. Sections that are not about the
treatment's evidence (how it is thought to work, the exercises, the reference list) are
left out.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
HTML_DIR = ROOT / "_build" / "html"
QUOTED = Path(__file__).with_name("quoted_counts.csv")

RANDOMISED = {"parallel RCT", "crossover RCT"}
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
STUDY_NOUNS = ("trial", "stud")
COUNT = re.compile(
    r"\b(\d{1,3}(?:,\d{3})+|\d+|" + "|".join(WORDS) + r")\s+"
    r"(?:(?:more|other|new|small|large|published|randomi[sz]ed|controlled|further)\s+)*"
    r"(trials?|stud(?:y|ies)|participants?|people|patients|adults|children)\b", re.I)
#: "76 in 100 people", "81 of 100", "16 of every 100": a risk, not a count.
PER_100 = re.compile(r"\b(?:in|per|out of|of|of every)\s+100\s*$", re.I)
#: Sections that are not about the evidence for the treatment.
SKIPPED_SECTIONS = {"mechanism", "for-learners", "learning-objectives", "discussion-questions",
                    "exercise", "exercise-content", "solution-content", "references"}


@cache
def _tables() -> dict[str, pd.DataFrame]:
    names = ("treatments", "studies", "certainty", "published_analyses", "registry_records",
             "outcomes")
    return {n: pd.read_csv(DATA / f"{n}.csv", dtype=str, keep_default_na=False)
            for n in names}


def _descendants(treatment_id: str) -> list[str]:
    treatments = _tables()["treatments"]
    children = treatments.loc[treatments["parent"] == treatment_id, "id"]
    return [treatment_id] + [d for c in children for d in _descendants(c)]


def _size(row: pd.Series) -> int | None:
    for column in ("n_randomized", "n_enrolled"):
        if row[column].strip():
            return int(float(row[column]))
    return None


def _counts_of(studies: pd.DataFrame) -> tuple[set[int], set[int]]:
    """Study counts and participant counts of a set of studies and its design subsets."""
    trials = studies[studies["design"].isin(RANDOMISED)]
    others = studies[~studies["design"].isin(RANDOMISED)]
    n_studies, n_people = set(), set()
    for part in (studies, trials, others):
        n_studies.add(len(part))
        sizes = [s for s in (_size(r) for _, r in part.iterrows()) if s is not None]
        n_people.add(sum(sizes))
    return n_studies, n_people


def _numbers_in(frame: pd.DataFrame) -> set[int]:
    found: set[int] = set()
    for column in frame.columns:
        for value in frame[column]:
            found |= {int(n.replace(",", "")) for n in re.findall(r"\d{1,3}(?:,\d{3})+|\d+",
                                                                   value)}
    return found


@cache
def allowed(treatment_ids: tuple[str, ...]) -> tuple[frozenset[int], frozenset[int]]:
    """(study counts, people counts) a page about these treatments may state."""
    t = _tables()
    studies = t["studies"]
    scopes = [[i] for i in treatment_ids] + [_descendants(i) for i in treatment_ids]
    scopes.append(list(treatment_ids))
    ratings = t["certainty"][t["certainty"]["treatment_id"].isin(treatment_ids)]
    by_id = studies.set_index("id")
    groups = [studies[studies["treatment_id"].isin(s)] for s in scopes]
    groups += [by_id.loc[[s for s in r.split() if s in by_id.index]].reset_index()
               for r in ratings["studies"] if r.strip()]
    n_studies: set[int] = set()
    n_people: set[int] = set()
    for group in groups:
        s, p = _counts_of(group)
        n_studies |= s
        n_people |= p
    # any one study's size: pages mention studies of other pages ("a trial in 23 children")
    n_people |= {s for s in (_size(r) for _, r in studies.iterrows()) if s is not None}
    own = studies[studies["treatment_id"].isin(treatment_ids)]
    treatments = t["treatments"]
    quoted = (_numbers_in(own) | _numbers_in(ratings)
              | _numbers_in(treatments[treatments["id"].isin(treatment_ids)]))
    for name in ("published_analyses", "registry_records"):
        table = t[name]
        quoted |= _numbers_in(table[table["treatment_id"].isin(treatment_ids)])
    outcomes = t["outcomes"]
    quoted |= _numbers_in(outcomes.loc[outcomes["study_id"].isin(own["id"]), ["n", "events"]])
    return frozenset(n_studies | quoted), frozenset(n_people | quoted)


def _quoted() -> list[dict[str, str]]:
    with QUOTED.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _reader_text(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main") or soup.body
    for section in [s for s in main.find_all("section") if s.get("id") in SKIPPED_SECTIONS]:
        if not section.decomposed:
            section.decompose()
    for code in main.find_all(["pre", "code", "script", "style"]):
        code.decompose()
    return re.sub(r"\s+", " ", main.get_text(" ", strip=True))


def stated_counts(text: str) -> list[tuple[str, int, str]]:
    """(phrase, number, "studies" or "people") for every count in a text, "in 100" left out.

    >>> stated_counts("3 randomised trials (80 participants); 18 in 100 people")
    [('3 randomised trials', 3, 'studies'), ('80 participants', 80, 'people')]
    """
    found = []
    for match in COUNT.finditer(text):
        if match.group(1) == "100" and PER_100.search(text[max(0, match.start() - 12):
                                                           match.end() - len(match.group(2))]):
            continue
        raw = match.group(1).lower()
        number = WORDS.get(raw) or int(raw.replace(",", ""))
        kind = "studies" if match.group(2).lower().startswith(STUDY_NOUNS) else "people"
        found.append((match.group(0), number, kind))
    return found


def _pages() -> list[tuple[str, tuple[str, ...]]]:
    """(page, its treatments): treatment pages, the home page and every handout."""
    treatments = _tables()["treatments"]
    pages: dict[str, set[str]] = {}
    for row in treatments.itertuples():
        if row.notebook:
            pages.setdefault(row.notebook.replace(".ipynb", ".html"), set()).add(row.id)
        pages[f"handouts/{row.id}.html"] = set(_descendants(row.id)) | (
            {row.parent} if row.parent else set())
    everything = set(treatments["id"])
    pages["index.html"] = everything
    pages["02-evidence-overview.html"] = everything
    pages["21-teaching-guide.html"] = everything
    pages["handouts/all-treatments.html"] = everything
    return [(page, tuple(sorted({d for t in ids for d in _descendants(t)})))
            for page, ids in sorted(pages.items())]


def test_the_count_finder_reads_what_pages_write() -> None:
    found = stated_counts("It rests on 2 studies with 1,460 people (the size of 1 study is not "
                          "known to us). About 15 in 100 people developed CRPS. Eleven "
                          "randomised trials; one other study.")
    assert [(n, k) for _, n, k in found] == [(2, "studies"), (1460, "people"), (1, "studies"),
                                            (11, "studies"), (1, "studies")]


@pytest.mark.parametrize(("page", "treatment_ids"), _pages(), ids=lambda v: str(v)[:40])
def test_every_stated_count_agrees_with_the_data(page: str, treatment_ids: tuple[str, ...]
                                                 ) -> None:
    path = HTML_DIR / page
    if not path.is_file():
        pytest.skip(f"{path} is not built (make book)")
    text = _reader_text(path)
    studies, people = allowed(treatment_ids)
    quoted = {(q["page"], q["phrase"]) for q in _quoted()}
    wrong = [phrase for phrase, number, kind in stated_counts(text)
             if number not in (studies if kind == "studies" else people)
             and (page, phrase) not in quoted]
    assert not wrong, (f"{page}: counts that match no count of the data for "
                       f"{', '.join(treatment_ids)} and are not in {QUOTED.name}: {wrong}")


def test_every_quoted_count_is_still_on_its_page_and_names_its_source() -> None:
    rows = _quoted()
    assert rows, f"{QUOTED} is empty"
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    for row in rows:
        assert row["source"] == "this collection" or f"{{{row['source']}," in bib, row
        assert row["why"].strip(), row
        path = HTML_DIR / row["page"]
        if not path.is_file():
            pytest.skip(f"{path} is not built (make book)")
        phrases = {phrase for phrase, _, _ in stated_counts(_reader_text(path))}
        assert row["phrase"] in phrases, f"{QUOTED.name}: {row['phrase']!r} not on {row['page']}"
