"""Curated, source-checked evidence on treatments for Complex Regional Pain Syndrome.

The public API: loaders for the tables and the bibliography, the integrity checks, and the
package's exceptions. Synthesis, plots, clients and notebook helpers live in their modules.
"""

from .data import (
    Evidence,
    load_all,
    load_analyses,
    load_certainty,
    load_outcomes,
    load_published_analyses,
    load_reference_sources,
    load_screening,
    load_searches,
    load_studies,
    load_treatments,
)
from .errors import (
    AnalysisError,
    ClientError,
    CRPSEvidenceError,
    DataError,
    ForeignKeyNotCheckedWarning,
)
from .integrity import check_integrity
from .references import Bibliography, Reference, format_reference, load_references

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
    "load_screening",
    "load_searches",
    "load_studies",
    "load_treatments",
]

__version__ = "0.1.0"
