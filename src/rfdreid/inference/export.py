"""Export a trained network to ONNX, verified against PyTorch with onnxruntime.

Why verify: an exporter can silently change numerics (an unsupported op, a wrong pooling
size); running both on the same random batch and comparing catches it at export time,
not in production.

The exported graph is the eval-mode network: input `images` [N, 3, H, W] float32
(resized and normalised as in evaluation), output `embedding` [N, D]. N is dynamic; H x W
is fixed at export (the exporter turns adaptive pooling into fixed pooling).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rfdreid.training.checkpoint import TrainedModel
from rfdreid.inference.extract import build_inference_model
from rfdreid.errors import ReIDError
from rfdreid.fileio import atomic_write

OPSET = 17
TOLERANCE = 1e-4


@dataclass(frozen=True)
class ExportResult:
    path: Path
    height: int
    width: int
    feature_dim: int
    max_abs_diff: float  # PyTorch vs onnxruntime on a random batch


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ReIDError(
            f"ONNX export needs the onnx and onnxruntime packages ({module} is missing); "
            "install them with: pip install 'rfdreid[export]'"
        ) from None


def export_onnx(
    trained: TrainedModel,
    out: Path,
    height: int | None = None,
    width: int | None = None,
    tolerance: float = TOLERANCE,
) -> ExportResult:
    """Write `trained`'s eval network to `out`, validate the file (onnx checker) and compare
    onnxruntime with PyTorch on a random batch of 3.

    height / width: the input size (default: the checkpoint's data.height / data.width).
    Raises ReIDError when the ONNX outputs differ from PyTorch by more than `tolerance`.
    """
    onnx, ort = _require("onnx"), _require("onnxruntime")
    height = height or trained.config.data.height
    width = width or trained.config.data.width
    model = build_inference_model(trained, "cpu")
    # Traced with batch 2, checked with batch 3: the batch axis really is dynamic.
    example = torch.randn(2, 3, height, width)
    batch = torch.randn(3, 3, height, width, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        expected = model(batch).numpy()
    diff = float("nan")

    def export_and_check(tmp: str) -> None:
        """Runs on a temporary file: only a model that passes the check reaches `out`."""
        nonlocal diff
        torch.onnx.export(
            model, (example,), tmp, input_names=["images"], output_names=["embedding"],
            dynamic_axes={"images": {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=OPSET, dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
        onnx.checker.check_model(tmp)
        session = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        (got,) = session.run(None, {"images": batch.numpy()})
        diff = float(np.abs(got - expected).max())
        if not diff <= tolerance:
            raise ReIDError(
                f"the ONNX export of {trained.path} differs from PyTorch by {diff:.2e} "
                f"(> {tolerance:g}); nothing was written to {out}"
            )

    atomic_write(out, export_and_check)
    return ExportResult(out, height, width, expected.shape[1], diff)
