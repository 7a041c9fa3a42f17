"""`rfdreid export --format onnx`: onnxruntime matches PyTorch, batch axis is dynamic."""

from __future__ import annotations

import re
import sys

import pytest
import torch


def test_onnx_matches_pytorch(cli, trained, model, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "bf.onnx"
    # 192 x 64: the part branches' maps (6 x 2) divide into 2 and 3 stripes.
    res = cli("export", "--checkpoint", trained.bf, "--format", "onnx", "--out", out,
              "--height", 192, "--width", 64)
    assert res.code == 0, res.err
    diff = float(re.search(r"max \|difference\| = (\S+)", res.out)[1])
    assert diff <= 1e-4
    images = torch.randn(5, 3, 192, 64)  # another batch size than the exporter's checks
    (onnx_out,) = ort.InferenceSession(str(out)).run(None, {"images": images.numpy()})
    with torch.inference_mode():
        expected = model.feature_net(images)
    torch.testing.assert_close(torch.from_numpy(onnx_out), expected, rtol=0, atol=1e-4)


def test_missing_onnxruntime_is_one_line(cli, trained, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    cli("export", "--checkpoint", trained.bf).assert_one_line_error("rfdreid[export]")


def test_uneven_input_size_and_bad_checkpoint_are_one_line(cli, trained, tmp_path):
    cli("export", "--checkpoint", trained.bf, "--out", tmp_path / "x.onnx"
        ).assert_one_line_error("stripe_pool", "--height")  # 64 x 32: 2 rows into 3 stripes
    cli("export", "--checkpoint", tmp_path / "none.pt").assert_one_line_error("none.pt")
    cli("export", "--checkpoint", trained.bf, "--format", "tflite").assert_one_line_error(
        "tflite")
