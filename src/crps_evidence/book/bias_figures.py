"""Risk of bias on the page: a traffic-light chart, a summary bar and the table in words.

The chart follows robvis (McGuinness & Higgins 2021): trials down the side, the tool's domains
across, one judgement per cell; beside it, for each domain, the share of the trials'
participants at each level. Every level has a symbol as well as a colour (``+`` low, ``-``
some concerns, ``x`` high, ``?`` no information; RoB 1's ``unclear`` is ``?`` too), and the
bars carry hatching, so the figure reads in grey scale and for colour-blind readers. The
colours are Okabe-Ito.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from ..errors import AnalysisError
from ..evidence.risk_of_bias import DOMAINS, JUDGEMENTS

__all__ = ["LEVELS", "risk_of_bias_chart", "risk_of_bias_words", "share_by_level"]

#: judgement -> (symbol, colour, hatch)
LEVELS: dict[str, tuple[str, str, str]] = {
    "low": ("+", "#009E73", ""),
    "some concerns": ("\u2212", "#F0E442", "//"),
    "unclear": ("?", "#F0E442", "//"),
    "high": ("\u00d7", "#D55E00", "xx"),
    "no information": ("?", "#BBBBBB", ".."),
}

#: Short names of the domains for the chart's columns (the key under the chart spells them).
SHORT = {
    "randomisation process": "D1", "deviations from intended interventions": "D2",
    "missing outcome data": "D3", "measurement of the outcome": "D4",
    "selection of the reported result": "D5",
    "random sequence generation": "D1", "allocation concealment": "D2",
    "blinding of participants and personnel": "D3", "blinding of outcome assessment": "D4",
    "incomplete outcome data": "D5", "selective reporting": "D6", "other bias": "D7",
    "overall": "Overall",
}


def _one_tool(table: pd.DataFrame) -> str:
    tools = sorted(set(table["tool"]))
    if len(tools) != 1:
        raise AnalysisError(f"one tool per chart, got {', '.join(tools) or 'no rows'}")
    return tools[0]


def share_by_level(table: pd.DataFrame, participants: dict[str, float]) -> pd.DataFrame:
    """Per domain, the share of participants (0-1) in trials at each judgement.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of ``risk_of_bias.csv`` for one tool.
    participants : dict of str to float
        Trial id to its number randomised (a trial of unknown size weighs nothing).

    Returns
    -------
    pandas.DataFrame
        Index: the tool's domains in order; columns: its judgements; rows sum to 1 (or to 0
        when no trial's size is known).

    Examples
    --------
    >>> rows = pd.DataFrame({"study_id": ["a", "b"], "tool": "RoB 2", "domain": "overall",
    ...                      "judgement": ["low", "high"]})
    >>> share_by_level(rows, {"a": 30, "b": 10}).loc["overall", ["low", "high"]].tolist()
    [0.75, 0.25]
    """
    tool = _one_tool(table)
    weights = table["study_id"].map(lambda s: float(participants.get(s) or 0.0))
    grid = (table.assign(weight=weights)
            .pivot_table(index="domain", columns="judgement", values="weight", aggfunc="sum",
                         fill_value=0.0)
            .reindex(index=list(DOMAINS[tool]), columns=list(JUDGEMENTS[tool]), fill_value=0.0))
    totals = grid.sum(axis=1).replace(0.0, 1.0)
    return grid.div(totals, axis=0)


def risk_of_bias_chart(table: pd.DataFrame, labels: dict[str, str],
                       participants: dict[str, float]) -> Figure:
    """The traffic-light chart (trials x domains) with the participant-weighted summary bars.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of ``risk_of_bias.csv`` for the trials to show, one tool.
    labels : dict of str to str
        Trial id to the label shown (e.g. ``Sigtermans et al. 2009``).
    participants : dict of str to float
        Trial id to its number randomised, for the bars.

    Returns
    -------
    matplotlib.figure.Figure
        Cells carry ``gid`` ``rob:<study id>:<domain>``.
    """
    tool = _one_tool(table)
    domains = list(DOMAINS[tool])
    trials = sorted(set(table["study_id"]), key=lambda s: labels.get(s, s))
    cell = {(r.study_id, r.domain): r.judgement for r in table.itertuples(index=False)}
    rows = len(trials)
    # Heights in inches, top to bottom: title and column names, the grid, a gap, the bars'
    # title, the bars, the key.
    head, grid_h, gap, bars_h, key_h = 0.75, 0.34 * rows, 0.75, 0.3 * len(domains), 0.75
    height = head + grid_h + gap + bars_h + key_h
    figure = Figure(figsize=(7.2, height))
    chart = figure.add_axes((0.34, (gap + bars_h + key_h) / height, 0.64, grid_h / height))
    for y, trial in enumerate(trials):
        for x, domain in enumerate(domains):
            judgement = cell.get((trial, domain), "no information")
            symbol, colour, _ = LEVELS[judgement]
            chart.scatter([x], [y], s=190, color=colour, edgecolor="black", linewidth=0.6,
                          zorder=2, gid=f"rob:{trial}:{domain}")
            chart.text(x, y, symbol, ha="center", va="center", fontsize=10,
                       fontweight="bold", zorder=3)
    chart.set_xlim(-0.6, len(domains) - 0.4)
    chart.set_ylim(rows - 0.5, -0.5)
    chart.set_xticks(range(len(domains)), [SHORT[d] for d in domains], fontsize=9)
    chart.xaxis.tick_top()
    chart.set_yticks(range(rows), [labels.get(t, t) for t in trials], fontsize=9)
    chart.tick_params(length=0)
    chart.axvline(len(domains) - 1.5, color="black", linewidth=0.6)
    for side in chart.spines.values():
        side.set_visible(False)
    chart.set_title(f"Risk of bias per trial ({tool})", fontsize=10, loc="left", pad=18)

    shares = share_by_level(table[table["study_id"].isin(trials)], participants)
    bars = figure.add_axes((0.34, key_h / height, 0.64, bars_h / height))
    for y, domain in enumerate(domains):
        left = 0.0
        for judgement in JUDGEMENTS[tool]:
            share = float(shares.loc[domain, judgement])
            if share <= 0:
                continue
            _, colour, hatch = LEVELS[judgement]
            bars.barh(y, share, left=left, color=colour, hatch=hatch, edgecolor="black",
                      linewidth=0.5, gid=f"share:{domain}:{judgement}")
            left += share
    bars.set_yticks(range(len(domains)), [SHORT[d] for d in domains], fontsize=8)
    bars.set_ylim(len(domains) - 0.5, -0.5)
    bars.set_xlim(0, 1)
    bars.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"], fontsize=8)
    bars.set_title("Share of participants at each level", fontsize=9, loc="left")
    key = "   ".join(f"{LEVELS[j][0]} {j}" for j in JUDGEMENTS[tool])
    names = "; ".join(f"{SHORT[d]} {d}" for d in domains[:-1])
    figure.text(0.02, 0.05 / height, f"{key}\n{_wrap(names, 110)}", fontsize=7.5,
                va="bottom")
    return figure


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def risk_of_bias_words(table: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The chart as a table for readers: one row per trial, each domain's judgement in words.

    Examples
    --------
    >>> rows = pd.DataFrame({"study_id": "a", "tool": "RoB 2", "judged_by": "this collection",
    ...     "domain": ["randomisation process", "deviations from intended interventions",
    ...                "missing outcome data", "measurement of the outcome",
    ...                "selection of the reported result", "overall"],
    ...     "judgement": ["low", "low", "low", "high", "low", "high"]})
    >>> risk_of_bias_words(rows, {"a": "A 2001"}).iloc[0].tolist()[:3]
    ['A 2001', 'low', 'low']
    """
    tool = _one_tool(table)
    domains = list(DOMAINS[tool])
    grid = table.pivot_table(index="study_id", columns="domain", values="judgement",
                             aggfunc="first").reindex(columns=domains)
    grid = grid.loc[sorted(grid.index, key=lambda s: labels.get(s, s))]
    judged = table.groupby("study_id")["judged_by"].first()
    words = pd.DataFrame({"Trial": [labels.get(s, s) for s in grid.index]})
    for domain in domains:
        words[domain.capitalize()] = grid[domain].fillna("no information").to_numpy()
    words["Judged by"] = [("us (RoB 2)" if judged[s] == "this collection" else judged[s])
                          for s in grid.index]
    return words
