"""Small helpers shared by the figures (plots and forest)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import AnalysisError

__all__ = ["marker_areas", "require_columns", "smallest_text_pt"]


def require_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise :class:`AnalysisError` naming the columns of ``columns`` that ``frame`` lacks."""
    missing = [c for c in columns if c not in frame]
    if missing:
        raise AnalysisError(f"{what} needs columns {missing}")


def marker_areas(values: pd.Series, smallest: float = 20.0, largest: float = 400.0) -> np.ndarray:
    """Marker areas (points²) growing with the square root of ``values``; NaN -> smallest."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    top = np.nanmax(x) if np.isfinite(x).any() else 0.0
    if not top > 0:
        return np.full(x.shape, smallest)
    scaled = np.sqrt(np.clip(np.nan_to_num(x, nan=0.0), 0, None) / top)
    return smallest + (largest - smallest) * scaled


def smallest_text_pt(figure) -> float | None:
    """The size (points) of the smallest text ``figure`` draws, or None if it draws none.

    Counts every visible, non-empty text: titles, labels, tick labels, legends, annotations.
    The book writes it into each figure's PNG (:func:`crps_evidence.book.notebook.as_image`),
    where the browser checks read it to know how small the text is on a phone.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.text(0.5, 0.5, "small", fontsize=7.5)
    >>> smallest_text_pt(fig)
    7.5
    """
    from matplotlib.text import Text

    figure.draw_without_rendering()  # lays the ticks and legends out
    sizes = [t.get_fontsize() for t in figure.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return float(min(sizes)) if sizes else None
