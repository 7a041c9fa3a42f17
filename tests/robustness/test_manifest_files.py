"""Issue 23, manifests: UTF-8 with a BOM (as spreadsheet programs save CSV) is read like
plain UTF-8; any other encoding, and ids beyond int64, are refused in one line naming the
file (and line) before anything is written."""

from __future__ import annotations

import pytest

from rfdreid.data.records import Protocol

from crops import user_images, write_manifest
from oracles import snapshot


def _prepare(cli, manifest: str, out: str):
    return cli("prepare", "--dataset", "manifest", "--root", "cams", "--manifest", manifest,
               "--out", out)


def test_manifest_with_a_bom_reads_as_without(cli, tmp_path):
    rows = user_images(tmp_path / "cams")
    write_manifest(tmp_path / "plain.csv", rows)
    write_manifest(tmp_path / "bom.csv", rows, "utf-8-sig")
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert _prepare(cli, "plain.csv", "plain").code == 0
    res = _prepare(cli, "bom.csv", "bom")
    assert res.code == 0, res.err
    assert Protocol.load(tmp_path / "bom/protocol.json") == Protocol.load(
        tmp_path / "plain/protocol.json")


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-16-le", "cp1252"])
def test_manifest_in_another_encoding_is_one_line(encoding, cli, tmp_path):
    rows = user_images(tmp_path / "cams")
    (tmp_path / "cams" / "1_0_0.jpg").rename(tmp_path / "cams" / "café.jpg")
    write_manifest(tmp_path / "m.csv", [rows[0].replace("1_0_0.jpg", "café.jpg"), *rows[1:]],
                   encoding)
    before = snapshot(tmp_path)
    _prepare(cli, "m.csv", "out").assert_one_line_error(
        "manifest m.csv is not UTF-8", "save it as UTF-8")
    assert snapshot(tmp_path) == before


def test_pid_beyond_int64_is_refused_naming_the_line(cli, tmp_path):
    rows = user_images(tmp_path / "cams")
    huge = "99999999999999999999999"
    rows[-1] = rows[-1].replace(",3,1,gallery", f",{huge},1,gallery")
    write_manifest(tmp_path / "m.csv", rows)
    before = snapshot(tmp_path)
    _prepare(cli, "m.csv", "out").assert_one_line_error(
        f"manifest m.csv line {len(rows) + 1}", f"pid '{huge}'")
    assert snapshot(tmp_path) == before
