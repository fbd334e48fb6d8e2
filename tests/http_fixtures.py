"""The recorded and synthetic HTTP answers of ``tests/fixtures/http``, read by name."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "http"


def fixture_text(name: str) -> str:
    """The text of ``tests/fixtures/http/<name>``."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> dict:
    """``tests/fixtures/http/<name>`` parsed as JSON."""
    return json.loads(fixture_text(name))
