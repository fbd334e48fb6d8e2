"""Sphinx extension: the data tables as downloads from the site, and page addresses on paper.

* **Downloads.** When an HTML build finishes, every file the data package lists
  (``data/datapackage.json``: its tables) and ``datapackage.json`` itself are copied into
  ``<build>/data/``, with one zip of the whole package (``crps-evidence-data.zip``: the tables,
  ``datapackage.json`` and ``README.md``, the same bytes for the same files). The MyST
  substitution ``{{ data_downloads }}`` is the list of links to them; the data dictionary page
  shows it.
* **Addresses on paper.** A handout names the full page it summarises as a link, which paper
  cannot follow: the page's address is printed after it (``crps-print-address``, shown only
  on paper by print.css). With ``html_baseurl`` set (``CRPS_SITE_URL``) the address is the full
  URL; without it, the page's file name in the collection.

Configuration (``conf.py``)
---------------------------
crps_downloads_data : str
    Folder of the data package (default: ``data/`` beside the book's folder).
"""

from __future__ import annotations

import html
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms.post_transforms import SphinxPostTransform

#: Folder of the downloads in the built site.
FOLDER = "data"
ZIP_NAME = "crps-evidence-data.zip"
#: Fixed time stamp of the zip's entries, so the same files give the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def data_folder(confdir: str, setting: str) -> Path:
    return Path(setting) if setting else Path(confdir).parent / "data"


def package_files(data: Path) -> list[str]:
    """``datapackage.json`` and every file it lists, as names inside ``data``."""
    package = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    files = [r["path"] for r in package.get("resources", []) if isinstance(r.get("path"), str)]
    return ["datapackage.json", *files]


def download_list(data: Path) -> str:
    """Markdown (raw HTML links) listing the zip and each file, for the data dictionary."""
    package = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    titles = {r["path"]: r.get("title") or r.get("description")
              or f"the {str(r.get('name') or r['path']).replace('_', ' ')} table"
              for r in package.get("resources", []) if isinstance(r.get("path"), str)}
    items = [f'- <a href="{FOLDER}/{ZIP_NAME}" download>{ZIP_NAME}</a>: the whole data '
             "package in one file (every table, <code>datapackage.json</code> and the README)"]
    for name in package_files(data):
        what = ("the schema of every table (Frictionless Data Package)"
                if name == "datapackage.json" else html.escape(str(titles.get(name, name))))
        items.append(f'- <a href="{FOLDER}/{html.escape(name)}" download>'
                     f"{html.escape(Path(name).name)}</a>: {what}")
    return "\n".join(items)


def add_substitution(app: Sphinx, config: Config) -> None:
    data = data_folder(app.confdir, config.crps_downloads_data)
    config.myst_substitutions = {**config.myst_substitutions,
                                 "data_downloads": download_list(data)}


def copy_data(app: Sphinx, exception: Exception | None) -> None:
    """Copy the data package into the built site and zip it."""
    if exception is not None or app.builder.format != "html":
        return
    data = data_folder(app.confdir, app.config.crps_downloads_data)
    target = Path(app.outdir) / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    names = package_files(data)
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / name, target / name)
    extra = ["README.md"] if (data / "README.md").is_file() else []
    part = target / (ZIP_NAME + ".part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in [*names, *extra]:
            info = zipfile.ZipInfo(f"crps-evidence-data/{name}", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (data / name).read_bytes())
    part.replace(target / ZIP_NAME)


class PrintHandoutAddresses(SphinxPostTransform):
    """After the link to the full page on a handout, its address (printed, not on screen)."""

    default_priority = 730
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        docname = self.env.docname
        if not docname.startswith("handouts/"):
            return
        base = (self.app.config.html_baseurl or "").rstrip("/")
        for box in self.document.findall(nodes.container):
            if "crps-handout-meta" not in box.get("classes", []):
                continue
            for ref in list(box.findall(nodes.reference)):
                uri = ref.get("refuri", "")
                if not uri or "://" in uri or uri.startswith("#"):
                    continue
                page = urljoin(docname, uri.split("#")[0])  # e.g. "03-ketamine.html"
                address = f"{base}/{page}" if base else f"{page} in the collection"
                note = nodes.inline("", f" ({address})", classes=["crps-print-address"])
                ref.parent.insert(ref.parent.index(ref) + 1, note)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("crps_downloads_data", "", "env", types=[str])
    app.connect("config-inited", add_substitution)
    app.connect("build-finished", copy_data)
    app.add_post_transform(PrintHandoutAddresses)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
