"""`rfdreid export --format onnx`: onnxruntime matches PyTorch, batch axis is dynamic."""

from __future__ import annotations

import re
import sys

import pytest
import torch


@pytest.mark.parametrize("size", [(192, 64), (64, 32)])
def test_onnx_matches_pytorch(cli, trained, model, tmp_path, size):
    """192x64 gives part maps of 6x2 rows (even stripes); 64x32 gives 2 rows split into 3
    overlapping stripes, which plain adaptive pooling could not export."""
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "bf.onnx"
    res = cli("export", "--checkpoint", trained.bf, "--format", "onnx", "--out", out,
              "--height", size[0], "--width", size[1])
    assert res.code == 0, res.err
    diff = float(re.search(r"max \|difference\| = (\S+)", res.out)[1])
    assert diff <= 1e-4
    images = torch.randn(5, 3, *size)  # another batch size than the exporter's checks
    (onnx_out,) = ort.InferenceSession(str(out)).run(None, {"images": images.numpy()})
    with torch.inference_mode():
        expected = model.feature_net(images)
    torch.testing.assert_close(torch.from_numpy(onnx_out), expected, rtol=0, atol=1e-4)


def test_missing_onnxruntime_is_one_line(cli, trained, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    cli("export", "--checkpoint", trained.bf).assert_one_line_error("rfdreid[export]")


def test_bad_checkpoint_and_format_are_one_line(cli, trained, tmp_path):
    cli("export", "--checkpoint", tmp_path / "none.pt").assert_one_line_error("none.pt")
    cli("export", "--checkpoint", trained.bf, "--format", "tflite").assert_one_line_error(
        "tflite")
