"""The tiny trained pair's Market-style gallery, an evaluation output, and live servers of
both on free 127.0.0.1 ports (uvicorn in a thread, stopped at the end)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from rfdreid.api import ReIDModel
from rfdreid.config import EvalConfig
from rfdreid.workflows.evaluate import RunPair, evaluate_runs
from rfdreid.serve.app import create_app
from rfdreid.serve.gallery_search import GallerySearch
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
def search(trained: TinyPair, gallery_dir: Path) -> GallerySearch:
    return GallerySearch(ReIDModel.from_checkpoint(trained.bf, trained.br), gallery_dir,
                         progress=False)


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
def run_url(run_dir: Path) -> Iterator[str]:
    yield from _live(create_app(run=RunBrowser(run_dir, progress=False)))
