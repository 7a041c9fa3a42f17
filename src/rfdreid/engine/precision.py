"""Training precision: fp32, or autocast to bf16/fp16, and the tensor memory format.

Why: on CPUs with AVX-512 bf16 / AMX and on GPUs, convolutions run 1.2-2x faster in bf16
and in channels_last layout (docs/results.md, `benchmarks/bench_train.py`). Autocast keeps
the weights and the optimiser state in fp32, and the losses (`rfdreid.losses`) run in fp32,
so only the network's activations are rounded. fp16 exists on CUDA only and needs a
gradient scaler (its range is too small for raw gradients); bf16 has fp32's range.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

from rfdreid.errors import ReIDError

PRECISIONS = ("fp32", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse a precision the device cannot train in, naming the alternative."""
    if precision not in PRECISIONS:
        raise ReIDError(f"train.precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ReIDError("train.precision=fp16 needs a CUDA device; on CPU use bf16 or fp32")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ReIDError("this GPU has no bf16; use train.precision=fp16 or fp32")


def autocast(precision: str, device: torch.device) -> AbstractContextManager[object]:
    """The autocast region of one forward pass and loss (a no-op for fp32)."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=_DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A loss scaler for fp16 on CUDA; None where gradients fit the format unscaled."""
    if precision == "fp16" and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None


def autotune_convolutions(device: torch.device) -> None:
    """Let cuDNN time its convolution algorithms once per shape and keep the fastest.

    Why: training batches all have one shape (P x K images at the preset's size), so the
    one-off search pays back from the first few iterations (`bench_train.py --device cuda`
    measures it). Results stay within run-to-run noise, not bit-identical.
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def memory_format(channels_last: bool) -> torch.memory_format:
    return torch.channels_last if channels_last else torch.contiguous_format
