"""`rfdreid serve --gallery` over HTTP: pages, ranking fragment, uploads, files."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rfdreid.evaluation.distance import euclidean_distance
from rfdreid.serve.gallery_search import GallerySearch

from live_http import MAX_UPLOAD, multipart, request
from tiny import TinyPair


def _order(html: bytes) -> list[str]:
    return re.search(rb'data-order="([^"]*)"', html)[1].decode().split(",")


def _jpeg(path: Path) -> bytes:
    return path.read_bytes()


def test_index_lists_gallery_and_controls(gallery_url: str, gallery_dir: Path) -> None:
    status, body = request(gallery_url, "/")
    assert status == 200
    assert b'id="lam"' in body and b'value="filter"' in body
    assert all(p.name.encode() in body for p in gallery_dir.iterdir() if p.suffix == ".jpg")


def test_ranking_at_lambda_zero_is_bf_order_without_the_query(
        gallery_url: str, search: GallerySearch) -> None:
    name = search.paths[5].name
    status, body = request(gallery_url, f"/ranking?query=gallery:{name}&lam=0&k=100")
    assert status == 200
    f = search.gallery.features.f
    expected = [search.paths[i].name for i in
                torch.argsort(euclidean_distance(f[5:6], f)[0], stable=True).tolist() if i != 5]
    assert _order(body) == expected
    assert b"+1" not in body and b"-1" not in body  # nothing moved at λ = 0
    assert body.count(b'class="tile match"') == 5  # same id, other 5 shots
    assert body.count(b'class="tile miss"') == len(expected) - 5


def test_ranking_rejects_unknown_query_and_form(gallery_url: str) -> None:
    assert request(gallery_url, "/ranking?query=gallery:nope.jpg")[0] == 404
    assert request(gallery_url, "/ranking?query=whatever")[0] == 404
    name = "0006_c1s1_000000_00.jpg"
    assert request(gallery_url, f"/ranking?query=gallery:{name}&form=other")[0] == 400
    assert request(gallery_url, f"/ranking?query=gallery:{name}&lam=x")[0] == 400


@pytest.mark.parametrize("param, expected", [
    ("lam=nan", b"lam=nan is invalid; it must be a finite number"),
    ("lam=inf", b"lam=inf is invalid; it must be a finite number"),
    ("lam=-1e39", b"|\xce\xbb| must be at most"),
    ("k=nan", b"k=nan is invalid; it must be a finite number"),
    ("k=inf", b"k=inf is invalid; it must be a finite number"),
])
def test_ranking_refuses_non_finite_lambda_and_k(param: str, expected: bytes,
                                                  gallery_url: str) -> None:
    """Issue 23 item 2: a client error (400 saying why), not arbitrary order or a 500."""
    status, body = request(gallery_url, f"/ranking?query=gallery:0006_c1s1_000000_00.jpg&{param}")
    assert status == 400 and expected in body, (status, body)


def test_upload_is_a_query_with_its_id_from_the_name(gallery_url: str, trained: TinyPair) -> None:
    body, headers = multipart("image", "0007_c1s1_000009_00.jpg",
                              _jpeg(trained.images / "7_0_2.jpg"))
    status, answer = request(gallery_url, "/query", "POST", body, headers)
    assert status == 200, answer
    query = json.loads(answer)["query"]
    assert query.startswith("upload:")
    status, html = request(gallery_url, f"/ranking?query={query}&k=100")
    assert status == 200 and len(_order(html)) == 24  # an upload leaves nothing out
    assert html.count(b'class="tile match"') == 6
    token = query.split(":")[1]
    status, png = request(gallery_url, f"/upload/{token}")
    assert status == 200 and Image.open(io.BytesIO(png)).size == (32, 64)


def test_upload_over_the_cap_is_refused_before_decoding(gallery_url: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    assert len(buf.getvalue()) > MAX_UPLOAD
    body, headers = multipart("image", "big.png", buf.getvalue())
    status, answer = request(gallery_url, "/query", "POST", body, headers)
    assert status == 413 and b"capped" in answer


def test_upload_that_is_not_an_image_is_refused(gallery_url: str) -> None:
    body, headers = multipart("image", "fake.jpg", b"\xff\xd8\xff not really a jpeg")
    status, answer = request(gallery_url, "/query", "POST", body, headers)
    assert status == 400 and b"cannot read image fake.jpg" in answer
