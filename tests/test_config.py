"""Every setting is documented in the README's configuration table."""

from __future__ import annotations

from assistant.config import Settings
from conftest import REPO


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    missing = [f"LVA_{name.upper()}" for name in Settings.model_fields if f"`LVA_{name.upper()}`" not in readme]
    assert not missing, f"README configuration table lacks {missing}"


def test_settings_read_the_lva_prefix(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LVA_K", "7")
    monkeypatch.setenv("LVA_CHROMA_URL", "http://127.0.0.1:9")
    settings = Settings()
    assert settings.k == 7 and settings.chroma_url == "http://127.0.0.1:9"
