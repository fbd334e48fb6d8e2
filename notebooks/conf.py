"""Sphinx configuration for the rendered book of the CRPS evidence notebooks.

Build (from the repository root, offline, warnings are errors)::

    sphinx-build -W --keep-going -b html notebooks _build/html

The notebooks are rendered with their stored outputs (the ones nbval checks); nothing is
executed at build time. Every page is self-contained: MathJax is served from ``_static``
(sphinx-mathjax-offline), the theme ships its own fonts and icons, and no page loads anything
from another host.

Environment variables
---------------------
CRPS_REPOSITORY_URL
    URL of the public git repository. Without it the book shows no repository button, no
    issues button and no Binder / JupyterHub launch buttons (they would have nowhere to go),
    and the About page tells readers to contact the maintainers listed in CITATION.cff.
    With it, those buttons appear and the About page links to the repository's issues.
CRPS_REPOSITORY_BRANCH
    Branch the launch buttons point at (default ``main``).
CRPS_BINDERHUB_URL, CRPS_JUPYTERHUB_URL
    BinderHub (default ``https://mybinder.org``) and JupyterHub (default: none, so no
    JupyterHub button) that the launch buttons open, when a repository URL is set. An empty
    value removes the button.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.richtext import Text
from pybtex.style import FormattedEntry
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.template import (
    FieldIsMissing,
    Node,
    first_of,
    node,
    optional,
    optional_field,
    sentence,
    tag,
)
from pybtex.style.template import (
    field as bib_field,
)
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

# Build speed: myst-nb imports nbformat -> jsonschema, whose optional IRI format checker
# (package rfc3987_syntax) compiles about 40 Lark grammars on import: about 3 s of every build,
# for a check the book never uses. Only this sphinx-build process is affected.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# -- Project information ------------------------------------------------------------------
project = "CRPS treatment evidence notebooks"
author = "CRPS evidence notebooks contributors"
copyright = f"{date.today().year}, {author}"

NOTICE = (
    "Educational material, not medical advice. "
    "Talk to your own clinicians before changing treatment."
)

# No default: a book without a configured repository shows no repository or launch buttons.
repository_url = os.environ.get("CRPS_REPOSITORY_URL", "").strip().rstrip("/")
repository_branch = os.environ.get("CRPS_REPOSITORY_BRANCH", "").strip() or "main"
binderhub_url = os.environ.get("CRPS_BINDERHUB_URL", "https://mybinder.org").strip()
jupyterhub_url = os.environ.get("CRPS_JUPYTERHUB_URL", "").strip()

# -- General configuration ----------------------------------------------------------------
# Local extensions (notebooks/_ext): fold code inputs for readers; links from HTML outputs
# to notebooks point at their pages.
sys.path.insert(0, str(HERE / "_ext"))
extensions = [
    "myst_nb",
    "crps_fold_code",
    "crps_notebook_links",
    "sphinxcontrib.bibtex",
    "sphinx_exercise",
    # Makes `{solution}` with `:class: dropdown` (and `dropdown` admonitions) fold away.
    "sphinx_togglebutton",
    "sphinx_book_theme",
    # Copies MathJax 3 into _static/mathjax and points mathjax_path at it (no CDN).
    "sphinx-mathjax-offline",
]

root_doc = "index"
# notebooks/README.md is the contents list for people browsing the repository; it is not
# a page of the book (index.md is generated from the same titles by scripts/make_index.py).
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "README.md",
    "**/*.py",
    "_templates",
    "Thumbs.db",
    ".DS_Store",
]
templates_path = ["_templates"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

language = "en"
nitpicky = False

# -- MyST / MyST-NB -----------------------------------------------------------------------
myst_enable_extensions = [
    "amsmath",
    "colon_fence",
    "deflist",
    "dollarmath",
    "substitution",
]
myst_heading_anchors = 3
myst_substitutions = {"notice": NOTICE}

# Render the stored, nbval-checked outputs; never execute at build time.
nb_execution_mode = "off"
nb_merge_streams = True
# Keep the .ipynb downloadable from the page (theme's download button).
nb_remove_code_source = False

# -- Bibliography -------------------------------------------------------------------------
# The project's rule is to leave out any bibliographic field that was not seen in a source, so
# an entry may lack its author, journal, year or even its title. pybtex's "plain" style
# refuses such entries (a -W error) and sphinxcontrib-bibtex's author-year citations crash
# when an entry has no author, editor and title. The two styles below render whatever fields
# an entry has instead; the data tests, not the book build, report incomplete entries.


@dataclass
class _TolerantPersonStyle(PersonStyle):
    """Author, else editor, else title, else the citation key (never a crash)."""

    def author_or_editor_or_title(self, full: bool) -> Node:
        return first_of[
            optional[self.names("author", full=full)],
            optional[self.names("editor", full=full)],
            optional[tag("em")[bib_field("title")]],
            _citation_key,
        ]


@node
def _citation_key(children, data):
    assert not children
    return Text(data["entry"].key)


@dataclass
class _CrpsAuthorYearStyle(AuthorYearReferenceStyle):
    """Author-year citations in round brackets: (Author et al., 2009), Author et al. (2009)."""

    bracket_textual: BracketStyle = field(default_factory=lambda: BracketStyle(left="(", right=")"))
    bracket_parenthetical: BracketStyle = field(
        default_factory=lambda: BracketStyle(left="(", right=")")
    )
    person: PersonStyle = field(default_factory=_TolerantPersonStyle)


class _CrpsBibliographyStyle(UnsrtStyle):
    """pybtex "plain" (sorted by author, year, title); incomplete entries keep what they have."""

    default_sorting_style = "author_year_title"

    def format_title(self, e, which_field, as_sentence=True):
        # Keep titles as written in references.bib: pybtex's sentence-casing turns acronyms
        # such as TENS, NHS, CRPS or IVIG into lower case unless every one is braced.
        formatted_title = bib_field(which_field)
        return sentence[formatted_title] if as_sentence else formatted_title

    def format_entry(self, label, entry, bib_data=None):
        try:
            return super().format_entry(label, entry, bib_data=bib_data)
        except FieldIsMissing:
            template = toplevel[
                optional[sentence[self.format_names("author", as_sentence=False)]],
                optional[self.format_title(entry, "title")],
                optional[sentence[tag("em")[bib_field("journal")]]],
                optional[sentence[bib_field("publisher")]],
                optional[sentence[bib_field("year")]],
                sentence[optional_field("note")],
                self.format_web_refs(entry),
            ]
            text = template.format_data({"entry": entry, "style": self, "bib_data": bib_data})
            return FormattedEntry(entry.key, text, label)


pybtex.plugin.register_plugin("pybtex.style.formatting", "crps", _CrpsBibliographyStyle, True)
sphinxcontrib.bibtex.plugin.register_plugin(
    "sphinxcontrib.bibtex.style.referencing", "crps_author_year", _CrpsAuthorYearStyle, True
)

bibtex_bibfiles = ["../references.bib"]
bibtex_default_style = "crps"
bibtex_reference_style = "crps_author_year"
# Stable anchors: a citation of KEY links to bibliography.html#cite-KEY.
bibtex_cite_id = "cite-{key}"
bibtex_encoding = "utf-8"

# -- Math ---------------------------------------------------------------------------------
# mathjax_path is set by sphinx-mathjax-offline to the local copy.
mathjax3_config = {"tex": {"tags": "ams"}}

# -- HTML output --------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "CRPS treatment evidence"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_copy_source = True
html_show_sourcelink = False
html_last_updated_fmt = None
html_search_language = "en"

# pydata-sphinx-theme 0.20 logs "Got invalid theme mode" in the console when no mode is set.
html_context = {"default_mode": "auto"}

# Launch buttons need a repository to launch from; without one there are none at all.
launch_buttons: dict[str, str] = {}
if repository_url:
    launch_buttons["notebook_interface"] = "jupyterlab"
    if binderhub_url:
        launch_buttons["binderhub_url"] = binderhub_url
    if jupyterhub_url:
        launch_buttons["jupyterhub_url"] = jupyterhub_url

html_theme_options = {
    # The notice sits in the announcement bar at the top of every page, search included.
    "announcement": f'<span class="crps-notice" role="note">{NOTICE}</span>',
    "repository_url": repository_url,
    "repository_branch": repository_branch,
    "path_to_docs": "notebooks",
    "use_download_button": True,
    "use_repository_button": bool(repository_url),
    "use_issues_button": bool(repository_url),
    "use_edit_page_button": False,
    "use_fullscreen_button": False,
    "launch_buttons": launch_buttons,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # No remote version switcher, analytics or icon links that would fetch from elsewhere.
    "icon_links": [],
}

# -- Exercises ----------------------------------------------------------------------------
hide_solutions = False

suppress_warnings: list[str] = []
