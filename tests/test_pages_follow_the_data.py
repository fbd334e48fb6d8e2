"""A pooled analysis added as one data row reaches its treatment's page when the page is run."""

from __future__ import annotations

import csv
import io

import nbformat
from nbclient import NotebookClient

from crps_evidence import load_treatments
from crps_evidence.book import overview

from .conftest import ROOT


def test_a_new_analysis_row_appears_on_its_page(tmp_path, monkeypatch):
    root = overview.copy_data(tmp_path / "project")
    path = root / "data" / "analyses.csv"
    text = path.read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(text)))
    first = next(csv.DictReader(io.StringIO(text)))
    question = "SYNTHETIC question: the same trials asked again, to see the page follow the data?"
    added = {**first, "id": "synthetic-new-analysis", "question": question, "published": ""}
    out = io.StringIO()
    csv.DictWriter(out, fieldnames=header, lineterminator="\n").writerow(added)
    path.write_text(text + out.getvalue(), encoding="utf-8")

    treatments = load_treatments().set_index("id")
    page = ROOT / "notebooks" / treatments.loc[first["treatment_id"], "notebook"]
    notebook = nbformat.read(page, as_version=4)
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(root))
    monkeypatch.setenv("CRPS_EVIDENCE_CACHE_DIR", str(tmp_path / "cache"))
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(page.parent)}}).execute()
    shown = "\n".join(str(output.get("data", {}).get("text/markdown", ""))
                      for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.get("outputs", []))
    assert question in shown, f"{page.name} does not show the analysis added to analyses.csv"
