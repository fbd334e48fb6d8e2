"""Tables for people: pandas DataFrames rendered as clean, deterministic HTML.

The notebooks show tables to patients, carers and students as well as to researchers. A raw
pandas dump shows the row index, ``<NA>``, cells cut with "..." and coded values; the HTML
made here has none of those:

* no index column (an unnamed index is row numbering and is left out; a named index, as
  after ``set_index("id")``, becomes an ordinary first column);
* missing values (``None``, ``NaN``, ``pd.NA``, ``NaT`` and empty strings) as an em dash, or
  as the text the caller gives, e.g. ``"not reported"``;
* coded values mapped to human labels per column (``favours_treatment`` -> "favours
  treatment");
* every cell in full, never truncated;
* the table inside a ``div.crps-table-wrap`` that scrolls sideways in its own box, and
  ``data-label`` attributes on every cell so the book's CSS can stack wide tables as cards
  at phone width;
* the same bytes for the same data (no random ids), so nbval can compare stored outputs;
* every cell escaped, and a link only to an ``https``, ``http`` or relative address: this
  module is the one path from data to HTML and Markdown (:func:`html_text`, :func:`md_text`,
  :func:`safe_url`, from :mod:`crps_evidence._markup`).

:func:`reader_table` wraps a DataFrame so that Jupyter displays it this way while code keeps
using it as a DataFrame; :func:`register_formatter` makes every DataFrame a notebook displays
render this way (``crps_evidence.book.notebook`` calls it on import).

Examples
--------
>>> frame = pd.DataFrame({"Study": ["A 2001", "B 2003"], "N": [12, None]})
>>> html = to_html(frame)
>>> "<th" in html and "—" in html and "dataframe" not in html
True
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from .._markup import html_text, markup_in, md_text, safe_url, unsafe_url

__all__ = [
    "MISSING",
    "RESULT_LABELS",
    "ReaderTable",
    "format_value",
    "html_text",
    "markup_in",
    "md_text",
    "reader_table",
    "register_formatter",
    "safe_url",
    "to_html",
    "unsafe_url",
]

#: What a missing value looks like unless the caller says otherwise.
MISSING = "—"

#: Human labels for the ``primary_result`` codes of ``studies.csv``.
RESULT_LABELS: dict[str, str] = {
    "favours_treatment": "favours treatment",
    "no_difference": "no difference",
    "favours_control": "favours control",
    "uncontrolled": "uncontrolled (no comparison group)",
    "not_reported": "not reported",
}

#: Tables with more columns than this are stacked as cards at phone width (layout "auto").
STACK_ABOVE_COLUMNS = 3

Layout = Literal["auto", "scroll", "stack"]
_NUM = ' class="num"'


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def format_value(value: object, booleans: tuple[str, str] | None = ("yes", "no"),
                 decimals: int = 4) -> str:
    """Plain text for one cell (missing values are handled by the caller).

    Parameters
    ----------
    value : object
        The cell.
    booleans : tuple of str or None
        Words for True and False; ``None`` writes ``True`` / ``False``.
    decimals : int
        Most decimals a float shows; trailing zeros are dropped (``124.0`` -> ``124``).

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(124.0), format_value(-0.78123), format_value(True), format_value(3)
    ('124', '-0.7812', 'yes', '3')
    """
    if isinstance(value, bool | np.bool_):
        value = bool(value)
        return str(value) if booleans is None else booleans[0 if value else 1]
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        text = f"{number:.{decimals}f}".rstrip("0").rstrip(".")
        return "0" if text in {"-0", ""} else text
    return str(value)


def _cell(value: object, missing: str, booleans: tuple[str, str] | None) -> str:
    """HTML of one cell."""
    if hasattr(value, "__html__"):  # markupsafe convention: already safe HTML
        return str(value.__html__())  # type: ignore[union-attr]
    if _is_missing(value):
        return _html.escape(missing)
    return _html.escape(format_value(value, booleans))


def _is_number_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _without_positional_index(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop an unnamed index (row numbers, filtered or not); keep a named one as columns."""
    index = frame.index
    if all(name is None for name in index.names):
        return frame
    names = [name if name is not None else f"level {i}" for i, name in enumerate(index.names)]
    flat = frame.copy()
    flat.index = flat.index.set_names(names)
    return flat.reset_index()


def _header(column: object) -> str:
    if isinstance(column, tuple):
        return " / ".join(str(part) for part in column if str(part))
    return str(column)


def to_html(
    frame: pd.DataFrame,
    *,
    missing: str = MISSING,
    labels: Mapping[str, Mapping[Any, str]] | None = None,
    links: Mapping[str, str] | None = None,
    link_format: Callable[[str], str] | None = None,
    caption: str | None = None,
    layout: Layout = "auto",
    booleans: tuple[str, str] | None = ("yes", "no"),
    raw: bool = False,
) -> str:
    """Render a DataFrame as clean, deterministic HTML for readers.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table. An unnamed index is left out; a named index becomes the first column(s).
    missing : str
        Text for a missing value (default an em dash).
    labels : mapping of column -> mapping of value -> str, optional
        Human labels for coded values, per column; values without a label are shown as
        they are.
    links : mapping of column -> column, optional
        Make each cell of a column a link to the address in another column, e.g.
        ``{"Treatment": "Notebook"}``. The address columns are not shown; a row without an
        address shows plain text.
    link_format : callable, optional
        Turns an address from the data into the ``href`` (e.g. ``.ipynb`` -> ``.html``).
    caption : str, optional
        A ``<caption>``; it also names the scrolling region for screen readers.
    layout : {"auto", "scroll", "stack"}
        At phone width, "scroll" keeps the grid (scrolling inside its box) and "stack"
        shows each row as a card of label: value lines; "auto" stacks tables with more
        than three columns.
    booleans : tuple of str or None
        Words for True and False (default "yes", "no"); ``None`` keeps ``True``/``False``.
    raw : bool
        Mark the table ``crps-table--raw``: data shown as stored (ids, codes) for people
        writing code, as opposed to a table worded for readers.

    Returns
    -------
    str
        ``<div class="crps-table-wrap" ...><table class="crps-table ...">...</table></div>``.

    Raises
    ------
    KeyError
        If ``labels`` or ``links`` names a column the frame does not have.

    Examples
    --------
    >>> frame = pd.DataFrame({"Result": ["favours_treatment"], "Page": ["03-x.ipynb"]})
    >>> out = to_html(frame, labels={"Result": RESULT_LABELS}, links={"Result": "Page"})
    >>> '<a href="03-x.ipynb">favours treatment</a>' in out, "Page" in out
    (True, False)
    """
    frame = _without_positional_index(frame)
    labels = dict(labels or {})
    links = dict(links or {})
    unknown = sorted(str(c) for c in (*labels, *links, *links.values()) if c not in frame)
    if unknown:
        raise KeyError(f"to_html: no column(s) {unknown}; the table has {list(frame.columns)}")
    hidden = set(links.values()) - set(links)
    shown = [c for c in frame.columns if c not in hidden]
    stack = layout == "stack" or (layout == "auto" and len(shown) > STACK_ABOVE_COLUMNS)
    classes = "crps-table" + (" crps-table--stack" if stack else "") + (
        " crps-table--raw" if raw else "")
    heads = [_html.escape(_header(c)) for c in shown]
    numeric = {c for c in shown if _is_number_column(frame[c]) and c not in labels}
    name = caption or "Table: " + ", ".join(_header(c) for c in shown[:3])
    out = [
        f'<div class="crps-table-wrap" role="region" tabindex="0" '
        f'aria-label="{_html.escape(name)}">',
        f'<table class="{classes}">',
    ]
    if caption:
        out.append(f"<caption>{_html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th scope="col"{_NUM if c in numeric else ""}>{h}</th>'
        for c, h in zip(shown, heads, strict=True)) + "</tr></thead>")
    out.append("<tbody>")
    for row in frame.itertuples(index=False, name=None):
        values = dict(zip(frame.columns, row, strict=True))
        cells = []
        for column, head in zip(shown, heads, strict=True):
            value = values[column]
            if column in labels and not _is_missing(value):
                value = labels[column].get(value, value)
            text = _cell(value, missing, booleans)
            target = values.get(links[column]) if column in links else None
            if target is not None and not _is_missing(target) and not _is_missing(value):
                href = safe_url(link_format(str(target)) if link_format else str(target))
                if href is not None:  # an address that may not be linked shows no link
                    text = f'<a href="{_html.escape(href)}">{text}</a>'
            kind = _NUM if column in numeric else ""
            cells.append(f'<td data-label="{head}"{kind}>{text}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


class ReaderTable(pd.DataFrame):
    """A DataFrame that Jupyter displays with :func:`to_html` (code uses it as usual).

    Make one with :func:`reader_table`. Derived frames (``table[table.N > 20]``, ``.copy()``)
    stay reader tables with the same display options.
    """

    _metadata: ClassVar[list[str]] = ["_reader_options"]
    _reader_options: dict[str, Any] | None = None

    @property
    def _constructor(self) -> type[ReaderTable]:
        return ReaderTable

    def _repr_html_(self) -> str:  # type: ignore[override]
        return to_html(self, **(self._reader_options or {}))

    def to_reader_html(self) -> str:
        """The HTML Jupyter shows for this table."""
        return self._repr_html_()

    def with_options(self, **options: Any) -> ReaderTable:
        """A copy displayed with these :func:`to_html` options on top of the current ones.

        Examples
        --------
        >>> table = reader_table(pd.DataFrame({"A": ["x"], "Page": ["p.html"]}), missing="-")
        >>> '<a href="p.html">x</a>' in table.with_options(links={"A": "Page"}).to_reader_html()
        True
        """
        return reader_table(self, **{**(self._reader_options or {}), **options})


def reader_table(frame: pd.DataFrame, **options: Any) -> ReaderTable:
    """Wrap ``frame`` so that notebooks display it as a table for people.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table; it is not copied more than pandas needs to.
    **options
        Keyword arguments of :func:`to_html` (``missing``, ``labels``, ``links`` ...).

    Returns
    -------
    ReaderTable
        Equal to ``frame`` as data; ``_repr_html_`` renders :func:`to_html`.

    Examples
    --------
    >>> table = reader_table(pd.DataFrame({"N": [1, None]}), missing="not reported")
    >>> int(table["N"].count()), "not reported" in table._repr_html_()
    (1, True)
    """
    to_html(frame.head(0), **options)  # fail now, not at display time, on a bad option
    table = ReaderTable(frame)
    table._reader_options = dict(options)
    return table


def _format_any(frame: pd.DataFrame) -> str:
    if isinstance(frame, ReaderTable):
        return frame._repr_html_()
    return to_html(frame, booleans=None, layout="scroll", raw=True)


def register_formatter(enable: bool = True) -> bool:
    """Display every DataFrame in the running IPython kernel with :func:`to_html`.

    Plain DataFrames keep their values as they are (``True``, codes, ids), scroll rather
    than stack and are marked ``crps-table--raw``; :class:`ReaderTable` objects use their
    own options.

    Parameters
    ----------
    enable : bool
        ``False`` restores pandas' own HTML.

    Returns
    -------
    bool
        Whether an IPython kernel was found (outside IPython nothing happens).
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    if enable:
        formatter.for_type(pd.DataFrame, _format_any)
    else:
        formatter.type_printers.pop(pd.DataFrame, None)
    return True
