"""Only files inside the served folder go out: `..` (plain or encoded) and symlinks out fail."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rfdreid.serve.safe_files import resolve_inside

from live_http import request


@pytest.fixture
def secret(gallery_dir: Path) -> Iterator[Path]:
    """A JPEG beside the gallery folder (outside it), and symlinks to it inside it."""
    outside = gallery_dir.parent / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.jpg"
    shutil.copy(next(gallery_dir.glob("*.jpg")), secret)
    (gallery_dir / "link.jpg").symlink_to(secret)
    (gallery_dir / "linkdir").symlink_to(outside, target_is_directory=True)
    yield secret
    (gallery_dir / "link.jpg").unlink()
    (gallery_dir / "linkdir").unlink()


def test_resolve_inside(tmp_path: Path) -> None:
    (tmp_path / "root" / "sub").mkdir(parents=True)
    (tmp_path / "root" / "sub" / "a.jpg").write_bytes(b"x")
    (tmp_path / "root" / "notes.txt").write_text("x")
    (tmp_path / "b.jpg").write_bytes(b"x")
    root = tmp_path / "root"
    assert resolve_inside(root, "sub/a.jpg") == (root / "sub" / "a.jpg").resolve()
    assert resolve_inside(root, "sub/../sub/a.jpg") == (root / "sub" / "a.jpg").resolve()
    for bad in ("../b.jpg", "sub/../../b.jpg", str(tmp_path / "b.jpg"), "notes.txt",
                "missing.jpg", "sub", "a.jpg\x00"):
        assert resolve_inside(root, bad) is None, bad


@pytest.mark.parametrize("path", [
    "/image/../outside/secret.jpg",
    "/image/..%2foutside%2fsecret.jpg",
    "/image/%2e%2e/outside/secret.jpg",
    "/image/%2E%2E%2Foutside%2Fsecret.jpg",
    "/image/%252e%252e%252foutside%252fsecret.jpg",
    "/image/link.jpg",
    "/image/linkdir/secret.jpg",
    "/image//etc/passwd",
    "/image/%2fetc%2fpasswd",
])
def test_traversal_is_refused(gallery_url: str, secret: Path, path: str) -> None:
    status, body = request(gallery_url, path)
    assert status in (400, 404), path
    assert secret.read_bytes() not in body


def test_gallery_file_is_served(gallery_url: str, gallery_dir: Path) -> None:
    path = sorted(gallery_dir.glob("*.jpg"))[0]
    assert request(gallery_url, f"/image/{path.name}") == (200, path.read_bytes())


def test_run_folder_files_only(run_url: str, run_dir: Path) -> None:
    assert request(run_url, "/run-file/results.json")[0] == 404  # not a picture
    assert request(run_url, "/run-file/..%2f..%2fetc%2fpasswd")[0] == 404
    assert request(run_url, "/image/anything.jpg")[0] == 404  # no gallery in run mode
