"""The B-F-only model and a Market-style gallery of the tiny pair (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfdreid.api import ReIDModel

from tiny import TinyPair, market_style_gallery


@pytest.fixture(scope="package")
def model_f(trained: TinyPair) -> ReIDModel:
    return ReIDModel.from_checkpoint(trained.bf)


@pytest.fixture
def market_gallery(trained: TinyPair, tmp_path: Path) -> Path:
    """The test ids 6-9 as a Market-style folder: `00PP_c<cam>s1_00000K_00.jpg`."""
    return market_style_gallery(trained.images, tmp_path / "gallery", shots=2)
