"""Curated, source-checked evidence on treatments for Complex Regional Pain Syndrome.

The public API: loaders for the tables and the bibliography, the integrity checks, and the
package's exceptions. The rest lives in four parts, each a subpackage:

- ``evidence``: the tables, their schema check, the references and the cross-table checks;
- ``stats``: effect sizes, pooling, GRADE rules, certainty and the pooled analyses;
- ``current``: the HTTP clients, trial registries, recorded searches, screening, update;
- ``book``: what the notebooks, the book and the handouts show.

The names of the flat layout before (``crps_evidence.notebook``, ``crps_evidence.searches``
...) still import the same modules (:mod:`crps_evidence._moved`).
"""

from . import _moved
from .checks import check_integrity
from .errors import (
    AnalysisError,
    ClientError,
    CRPSEvidenceError,
    DataError,
    ForeignKeyNotCheckedWarning,
)
from .evidence.references import Bibliography, Reference, format_reference, load_references
from .evidence.tables import (
    Evidence,
    load_all,
    load_analyses,
    load_certainty,
    load_outcomes,
    load_published_analyses,
    load_reference_sources,
    load_risk_of_bias,
    load_screening,
    load_search_log,
    load_searches,
    load_studies,
    load_treatments,
)

__all__ = [
    "AnalysisError",
    "Bibliography",
    "CRPSEvidenceError",
    "ClientError",
    "DataError",
    "Evidence",
    "ForeignKeyNotCheckedWarning",
    "Reference",
    "check_integrity",
    "format_reference",
    "load_all",
    "load_analyses",
    "load_certainty",
    "load_outcomes",
    "load_published_analyses",
    "load_reference_sources",
    "load_references",
    "load_risk_of_bias",
    "load_screening",
    "load_search_log",
    "load_searches",
    "load_studies",
    "load_treatments",
]

__version__ = "0.1.0"

_moved.install(__name__)
