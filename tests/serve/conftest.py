"""The tiny trained pair's Market-style gallery, an evaluation output, a gallery whose
distances are known by construction, and live servers of each on free 127.0.0.1 ports
(uvicorn in a thread, stopped at the end)."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import uvicorn
from starlette.applications import Starlette

from rfdreid.api import ReIDModel
from rfdreid.config import EvalConfig
from rfdreid.evaluation.methods import Method
from rfdreid.workflows.evaluate import RunPair, evaluate_runs
from rfdreid.inference.gallery import Features
from rfdreid.serve.app import create_app
from rfdreid.serve.gallery_search import GallerySearch
from rfdreid.serve.ranking import Gallery
from rfdreid.serve.run_browser import RunBrowser

from live_http import MAX_UPLOAD
from tiny import TinyPair, market_style_gallery


@pytest.fixture(scope="package")
def gallery_dir(trained: TinyPair, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ids 6-9, two cameras, three shots each, as `00PP_c<cam>s1_00000K_00.jpg`."""
    return market_style_gallery(trained.images, tmp_path_factory.mktemp("gallery"), shots=3)


@pytest.fixture(scope="package")
def run_dir(trained: TinyPair, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eval")
    evaluate_runs([RunPair(trained.bf, trained.br)], EvalConfig(batch_size=16), out_dir=out,
                  progress=False)
    return out


@pytest.fixture(scope="package")
def class_run_dir(trained: TinyPair, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """run_dir's evaluation with tables per resolution-class query group too."""
    out = tmp_path_factory.mktemp("eval_classes")
    evaluate_runs([RunPair(trained.bf, trained.br)],
                  EvalConfig(batch_size=16, by_resolution_class=True), out_dir=out,
                  progress=False)
    return out


@pytest.fixture(scope="package")
def search(trained: TinyPair, gallery_dir: Path) -> GallerySearch:
    return GallerySearch(ReIDModel.from_checkpoint(trained.bf, trained.br), gallery_dir,
                         progress=False)


@pytest.fixture(scope="package")
def line_search(search: GallerySearch, tmp_path_factory: pytest.TempPathFactory
                ) -> GallerySearch:
    """`search` with B-F features only, gallery image j at the point (j, 0): image 0 is at
    distance exactly j from image j. Its --results holds B-F thresholds at FPR 1e-3 (2.5)
    and 1e-4 (not reachable)."""
    points = torch.zeros(len(search.paths), 2)
    points[:, 0] = torch.arange(len(search.paths))
    results = tmp_path_factory.mktemp("verified") / "results.json"
    at_fpr = {"0.001": {"reachable": True, "threshold": 2.5, "tpr": 0.5,
                        "fpr": 0.001}, "0.0001": {"reachable": False}}
    results.write_text(json.dumps({"verification": [{
        "split": str(search.model.bf.path.resolve()),
        "galleries": {"multi": [{"method": Method().to_record(),
                                 "groups": {"all": {"at_fpr": at_fpr}}}]}}]}))
    line = copy.copy(search)
    line.gallery = Gallery(Features(points), search.gallery.tile, search.gallery.pids)
    line.results = results
    return line


def _live(app: Starlette) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="package")
def gallery_url(search: GallerySearch) -> Iterator[str]:
    yield from _live(create_app(search=search, max_upload_bytes=MAX_UPLOAD))


@pytest.fixture(scope="package")
def line_url(line_search: GallerySearch) -> Iterator[str]:
    yield from _live(create_app(search=line_search))


@pytest.fixture(scope="package")
def run_url(run_dir: Path) -> Iterator[str]:
    yield from _live(create_app(run=RunBrowser(run_dir, progress=False)))


@pytest.fixture(scope="package")
def class_run_url(class_run_dir: Path) -> Iterator[str]:
    yield from _live(create_app(run=RunBrowser(class_run_dir, progress=False)))
