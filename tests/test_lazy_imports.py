"""Heavy libraries are imported only where used (issue 15): checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("frictionless", "scipy", "statsmodels", "requests", "requests_cache",
         "crps_evidence.current.clients")  # fmt: skip


def loaded_after(code: str) -> set[str]:
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()[-1]
    return set(json.loads(out))


def test_a_notebooks_first_import_loads_none_of_them():
    assert loaded_after("from crps_evidence import notebook") == set()


def test_loading_valid_data_needs_no_frictionless():
    assert loaded_after("import crps_evidence as c\nc.load_all()") == set()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("from crps_evidence.stats.synthesis import pool\n"
         "pool([0.1, 0.3], [0.01, 0.02], method=\"DL\")",
         {"scipy"}),
        ("from crps_evidence.current.clients import Clients", {"requests", "requests_cache",
                                                       "crps_evidence.current.clients"}),
    ],
)
def test_they_are_imported_when_used(code, expected):
    assert expected <= loaded_after(code)


def test_the_normal_quantile_constant_is_scipys():
    from scipy import stats

    from crps_evidence import synthesis

    assert synthesis._Z95 == float(stats.norm.ppf(0.975))


def test_the_pages_search_status_needs_no_client():
    code = "from crps_evidence.current.searches import search_status\nsearch_status()"
    assert loaded_after(code) == set()
