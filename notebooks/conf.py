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
CRPS_SITE_URL
    Where the book is published (``html_baseurl``). Handouts print the full address of the
    page they summarise; without it, the page's file name.
CRPS_BINDERHUB_URL, CRPS_JUPYTERHUB_URL
    BinderHub (default ``https://mybinder.org``) and JupyterHub (default: none, so no
    JupyterHub button) that the launch buttons open, when a repository URL is set. An empty
    value removes the button.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

# Build speed: myst-nb imports nbformat -> jsonschema, whose optional IRI format checker
# (package rfc3987_syntax) compiles about 40 Lark grammars on import: about 3 s of every build,
# for a check the book never uses. Only this sphinx-build process is affected.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Local extensions and styles (notebooks/_ext): fold code inputs for readers, point links
# from HTML outputs to notebooks at their pages, printable handouts, citation and
# bibliography styles.
sys.path.insert(0, str(HERE / "_ext"))

# -- Project information ------------------------------------------------------------------
project = "CRPS treatment evidence notebooks"
author = "CRPS evidence notebooks contributors"
copyright = f"{date.today().year}, {author}"

NOTICE = (
    "Educational material, not medical advice. "
    "Talk to your own care team before changing treatment."
)

from crps_about import about_page_substitutions  # noqa: E402

# No default: a book without a configured repository shows no repository or launch buttons.
repository_url = os.environ.get("CRPS_REPOSITORY_URL", "").strip().rstrip("/")
repository_branch = os.environ.get("CRPS_REPOSITORY_BRANCH", "").strip() or "main"
binderhub_url = os.environ.get("CRPS_BINDERHUB_URL", "https://mybinder.org").strip()
jupyterhub_url = os.environ.get("CRPS_JUPYTERHUB_URL", "").strip()
html_baseurl = os.environ.get("CRPS_SITE_URL", "").strip()

# -- General configuration ----------------------------------------------------------------
extensions = [
    "myst_nb",
    "crps_fold_code",
    "crps_notebook_links",
    # Escapes the page title the book theme prints unescaped (a handout's title is data).
    "crps_escape",
    # Accessibility fixes of the theme's and docutils' HTML, one notice per page.
    "crps_accessibility",
    # The data package as downloads (<build>/data/), handouts print their page's address.
    "crps_downloads",
    # Printable handouts: pages generated from the data into handouts/, linked from the
    # treatment pages (scripts/make_handouts.py prints them to PDF).
    "crps_handouts",
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
    "_includes",
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
myst_substitutions = {
    "notice": NOTICE,
    **about_page_substitutions(ROOT, HERE, repository_url),
}

# Render the stored, nbval-checked outputs; never execute at build time.
nb_execution_mode = "off"
nb_merge_streams = True
# Keep the .ipynb downloadable from the page (theme's download button).
nb_remove_code_source = False

# -- Bibliography -------------------------------------------------------------------------
# One style for every citation and reference, from the package (notebooks/_ext/crps_bibstyle.py):
# in the text "(Kemler et al., 2000)", named by authors, else organisation, title or identifier
# (never the citation key, never "n.d."); on the bibliography page the same reference text as
# each notebook's own list, with DOI and PubMed links, sorted by the cited name. An incomplete
# entry renders with what it has; the data tests, not the book build, report missing fields.
import crps_bibstyle  # noqa: E402  (registers the pybtex and sphinxcontrib-bibtex styles)

crps_bibstyle.use(ROOT / "references.bib")
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
# print.css: what every page looks like on paper (no menus, buttons or folded code; the
# addresses of references printed) and the one-page layout of the handouts.
html_css_files = ["custom.css", ("print.css", {"media": "print"})]
# The menu buttons above the article open the navigation (on a phone they did nothing).
html_js_files = ["sidebar-toggles.js"]
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
