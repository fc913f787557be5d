"""Fixtures for the processing tests: the real JSONPlaceholder data set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "jsonplaceholder-data.json"


@pytest.fixture(scope="session")
def jsonplaceholder() -> dict[str, list[dict[str, Any]]]:
    """Every resource of the real JSONPlaceholder data, by resource name."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
