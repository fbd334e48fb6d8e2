"""Time pooling and plotting on synthetic data with 1,000 and 10,000 studies.

Run ``python benchmarks/bench_synthesis.py`` (options: ``--sizes 1000 10000 --repeat 5``,
``--only pool`` to run only the tasks whose name contains "pool").
Prints one row per task and size with the best of ``repeat`` wall-clock times, and the
growth exponent ``log(t_large / t_small) / log(n_large / n_small)`` (1 = linear). Plot
timings include rendering with Agg (``canvas.draw()``), not only building the figure.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from crps_evidence.book.plots import evidence_map, evidence_timeline, forest_plot
from crps_evidence.stats.synthesis import pool

CATEGORIES = ["rehabilitation", "topical", "external device", "chamber", "infusion",
              "apheresis", "injection", "implanted device"]  # fmt: skip
CERTAINTY = ["not rated", "very low", "low", "moderate", "high"]
DESIGNS = ["parallel RCT", "crossover RCT", "cohort", "case series", "case report"]
RESULTS = ["favours_treatment", "no_difference", "favours_control", "uncontrolled",
           "not_reported"]  # fmt: skip


def effects(n: int, seed: int = 1) -> pd.DataFrame:
    """Synthetic SMDs: true mean -0.3, tau 0.2, within-study variances 0.02-0.3."""
    rng = np.random.default_rng(seed)
    variance = rng.uniform(0.02, 0.3, n)
    effect = rng.normal(-0.3, 0.2, n) + rng.normal(0, np.sqrt(variance))
    half = 1.959964 * np.sqrt(variance)
    return pd.DataFrame({"study_id": [f"s{i}" for i in range(n)], "effect": effect,
                         "variance": variance, "ci_low": effect - half,
                         "ci_high": effect + half, "effect_measure": "SMD",
                         "lower_is_better": True})  # fmt: skip


def treatments(n: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"name": [f"treatment {i}" for i in range(n)],
                         "category": rng.choice(CATEGORIES, n),
                         "invasiveness": rng.integers(0, 5, n),
                         "certainty": rng.choice(CERTAINTY, n),
                         "rct_participants": rng.integers(0, 500, n)})  # fmt: skip


def studies(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"label": [f"Author {i}" for i in range(n)],
                         "year": rng.integers(1980, 2026, n), "design": rng.choice(DESIGNS, n),
                         "n": rng.integers(5, 300, n),
                         "primary_result": rng.choice(RESULTS, n)})  # fmt: skip


def rendered(make: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        fig = make()
        FigureCanvasAgg(fig).draw()  # type: ignore[arg-type]

    return run


def pooling(method: str, knapp_hartung: bool = False) -> Callable[[int], Callable[[], object]]:
    def factory(n: int) -> Callable[[], object]:
        table = effects(n)
        return partial(pool, table["effect"], table["variance"], method, knapp_hartung)

    return factory


def pooled_forest(n: int) -> Callable[[], None]:
    table = effects(n)
    return rendered(lambda: forest_plot(table, pool(table["effect"], table["variance"])))


def best_time(task: Callable[[], object], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        task()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5, help="pooling repeats (plots: 1)")
    parser.add_argument("--only", default="", help="run tasks whose name contains this text")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    tasks: dict[str, Callable[[int], Callable[[], object]]] = {
        f"pool {method}": pooling(method) for method in ("REML", "DL", "PM", "FE")
    }
    tasks["pool REML + Knapp-Hartung"] = pooling("REML", knapp_hartung=True)
    tasks["forest_plot (pooled), draw"] = pooled_forest
    tasks["evidence_map, draw"] = lambda n: rendered(partial(evidence_map, treatments(n)))
    tasks["evidence_timeline, draw"] = lambda n: rendered(partial(evidence_timeline, studies(n)))

    header = f"{'task':<30}" + "".join(f"{f'n={n:,}':>14}" for n in sizes) + f"{'growth':>10}"
    print(header)
    print("-" * len(header))
    for name, factory in tasks.items():
        if args.only not in name:
            continue
        repeat = args.repeat if name.startswith("pool") else 1
        seconds = [best_time(factory(n), repeat) for n in sizes]
        growth = ""
        if len(sizes) > 1 and seconds[0] > 0:
            exponent = math.log(seconds[-1] / seconds[0]) / math.log(sizes[-1] / sizes[0])
            growth = f"n^{exponent:.2f}"
        cells = "".join(f"{s * 1000:>11.1f} ms" for s in seconds)
        print(f"{name:<30}{cells}{growth:>10}")


if __name__ == "__main__":
    main()
