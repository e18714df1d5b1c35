"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Real logs nobody here wrote live beside the checkout (../shared/realdata); they are never
# copied into this repository because their licences differ from ours.
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real-log conformance data not found at {REALDATA} (../shared is absent)")
    return REALDATA
