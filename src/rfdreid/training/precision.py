"""Training precision: fp32, or autocast to bf16/fp16, and the tensor memory format.

Why: on CPUs with AVX-512 bf16 / AMX and on GPUs, convolutions run 1.2-2x faster in bf16
and in channels_last layout (docs/results.md, `benchmarks/bench_train.py`). Autocast keeps
the weights and the optimiser state in fp32, and the losses (`rfdreid.losses`) run in fp32,
so only the network's activations are rounded. fp16 exists on CUDA only and needs a
gradient scaler (its range is too small for raw gradients); bf16 has fp32's range.

Why `auto` (the default): without bf16 arithmetic (AVX2 CPUs) oneDNN emulates bf16 and a
training step is ~13x *slower* than fp32, so bf16 pays only where the hardware has it
(rfdreid.hardware); `auto` picks it there and fp32 everywhere else.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

from rfdreid.config import PRECISIONS
from rfdreid.errors import ReIDError
from rfdreid.hardware import Bf16Support, bf16_support

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a run trains in, whether `auto` chose it, and why.

    Stored in the checkpoint (`to_dict`), so a resumed run keeps it on any machine.
    """

    precision: str  # "fp32", "bf16" or "fp16": what autocast uses
    auto: bool
    reason: str
    warning: str | None = None  # printed once at start: explicit bf16 without native bf16

    def line(self) -> str:
        """"precision auto -> fp32: this CPU (AVX2) has no native bf16"."""
        return f"precision {'auto' if self.auto else 'set'} -> {self.precision}: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        return {"value": self.precision, "auto": self.auto, "reason": self.reason}


def choose_precision(requested: str, support: Bf16Support) -> PrecisionChoice:
    """Resolve `auto` for a device with the given bf16 support; other values stay as set."""
    native = f"{support.device} runs bf16 natively"
    emulated = f"{support.device} has no native bf16"
    if requested == "auto":
        return PrecisionChoice("bf16" if support.native else "fp32", True,
                               native if support.native else emulated)
    if requested == "bf16" and not support.native:
        return PrecisionChoice("bf16", False, "train.precision=bf16", warning=(
            f"train.precision=bf16 but {emulated}: it emulates bf16 and training "
            "runs ~13x slower than fp32; use train.precision=auto (fp32 on it)"))
    return PrecisionChoice(requested, False, f"train.precision={requested}")


def resolve_precision(requested: str, device: torch.device) -> PrecisionChoice:
    """The precision to train in on `device`, `auto` resolved from the hardware; a precision
    the device cannot train in is refused, naming the alternative."""
    if requested not in PRECISIONS:
        raise ReIDError(f"train.precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if requested == "fp16" and device.type != "cuda":
        raise ReIDError("train.precision=fp16 needs a CUDA device; on CPU use auto, bf16 or fp32")
    if requested == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ReIDError("this GPU has no bf16; use train.precision=auto, fp16 or fp32")
    return choose_precision(requested, bf16_support(device))


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
