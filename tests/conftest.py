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


@pytest.fixture(autouse=True)
def no_configured_llm(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never reach a model a developer happens to have configured, nor read their config."""
    for var in ("VEDETTE_LLM_URL", "VEDETTE_LLM_MODEL", "VEDETTE_LLM_API_KEY", "VEDETTE_LLM_PROVIDER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
