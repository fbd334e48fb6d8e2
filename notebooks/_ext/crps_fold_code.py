"""Sphinx extension: fold every notebook code cell's input in the rendered book.

The notebooks keep their code visible for researchers; the book folds it away for readers.
Every code cell that myst-nb renders with its source (that is, without a ``remove-input``
or ``remove-cell`` tag) is shown as if it carried the ``hide-input`` tag: a "Show the code"
toggle above the output. Cells that already hide something keep their own choice, extended
to the input (``hide-output`` becomes ``hide-input`` + ``hide-output``). The ``.ipynb``
files are not changed: this runs on the document tree, just before myst-nb's own
``HideInputCells`` post-transform wraps the hidden parts.

Configuration (``conf.py``)
---------------------------
crps_fold_code : bool
    Fold code inputs (default ``True``). Set it to ``False`` to render the code as in the
    notebooks.
crps_fold_code_prompt_show, crps_fold_code_prompt_hide : str
    Toggle labels of a folded input (defaults "Show the code" / "Hide the code"). Cells
    that also fold their output use myst-nb's ``nb_code_prompt_show`` / ``_hide``.

Accessibility: myst-nb writes each toggle as ``<summary aria-label="Toggle hidden content">``
around the visible words "Show the code", so a screen reader announces a name that is not
the text a sighted reader sees or a voice-control user says (axe-core rule
``label-content-name-mismatch``). This extension writes the same toggle without the
``aria-label``: its name is its visible text ("Show the code", or "Hide the code" once open).
"""

from __future__ import annotations

from html import escape
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

#: hide_mode before -> hide_mode after (``None``: the cell hides nothing yet).
FOLDED_MODE = {None: "input", "output": "input+output"}


class FoldCodeInputs(SphinxPostTransform):
    """Mark every code cell that shows its source as ``hide-input`` (HTML builds only)."""

    # myst_nb.sphinx_.HideInputCells runs at 199; lower numbers run first.
    default_priority = 198
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        config = self.app.config
        if not config.crps_fold_code:
            return
        for cell in self.document.findall(nodes.container):
            if cell.get("nb_element") != "cell_code" or not cell.children:
                continue
            if cell.children[0].get("nb_element") != "cell_code_source":
                continue  # remove-input: nothing to fold
            mode = cell.get("hide_mode")
            if mode not in FOLDED_MODE:
                continue  # already folds the input ("input", "input+output", "all")
            cell["hide_mode"] = FOLDED_MODE[mode]
            if mode is None:
                cell["prompt_show"] = config.crps_fold_code_prompt_show
                cell["prompt_hide"] = config.crps_fold_code_prompt_hide
            cell["classes"].append("crps-folded-input")


def visit_folded(self, node: nodes.Element) -> None:
    """myst-nb's toggle (``HideCodeCellNode``) named by its visible text, not an aria-label."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def depart_folded(self, node: nodes.Element) -> None:
    self.body.append("</details>\n")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the post-transform, the toggle's HTML and the switch."""
    from myst_nb.sphinx_ import HideCodeCellNode

    app.setup_extension("myst_nb")
    app.add_node(HideCodeCellNode, override=True, html=(visit_folded, depart_folded))
    app.add_config_value("crps_fold_code", True, "html", types=[bool])
    app.add_config_value("crps_fold_code_prompt_show", "Show the code", "html", types=[str])
    app.add_config_value("crps_fold_code_prompt_hide", "Hide the code", "html", types=[str])
    app.add_post_transform(FoldCodeInputs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
