"""Shared fixtures: where the real datasets live, and a small CPU budget for torch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RFDREID_SHARED_DATA", REPO.parent / "shared" / "data"))

torch.set_num_threads(min(2, os.cpu_count() or 1))


def _dataset_dir(name: str) -> Path:
    """The real dataset folder; absent, a skip locally but a failure under CI (`CI=true`),
    so a CI run without ../shared/data cannot pass by silently skipping the real-data tests."""
    path = SHARED_DATA / name
    if not path.is_dir():
        msg = f"real dataset {path} is absent (set RFDREID_SHARED_DATA to its parent folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " and CI=true: real-data tests must run in CI")
        pytest.skip(msg)
    return path


@pytest.fixture
def market_root() -> Path:
    """The real Market-1501 release, or skip."""
    return _dataset_dir("Market-1501-v15.09.15")


@pytest.fixture
def caviar_root() -> Path:
    """The real CAVIAR4REID folder, or skip."""
    return _dataset_dir("CAVIAR4REID")


@pytest.fixture
def tiny_protocol(tmp_path: Path) -> Path:
    """A protocol file over a few dozen generated JPEGs (see tests/tiny.py)."""
    from tiny import make_tiny_protocol

    return make_tiny_protocol(tmp_path)
