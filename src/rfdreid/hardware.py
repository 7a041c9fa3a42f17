"""What this machine runs natively: the CPU's instruction-set level and bf16 support.

Why: bf16 autocast is 1.4-1.7x faster than fp32 where the hardware has bf16 arithmetic
(AMX or AVX512-BF16 CPUs, most GPUs) and ~13x slower where oneDNN must emulate it (AVX2
CPUs: AMD Zen 3, most laptops). `train.precision: auto` (training/precision.py) and
`rfdreid info` both decide from :func:`bf16_support`.

The CPU flags come from torch (cpuinfo). oneDNN, which runs the bf16 convolutions, obeys
``ONEDNN_MAX_CPU_ISA`` (older name ``DNNL_MAX_CPU_ISA``): a cap below AVX512_CORE_BF16 makes
it emulate bf16 even on an AMX CPU, so the effective level here is the lower of the two.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

LEVELS = ("no AVX2", "AVX2", "AVX-512", "AVX512-BF16", "AMX")
"""Instruction-set levels that matter for training speed, lowest first; the last two run
bf16 natively."""
_BF16_LEVEL = LEVELS.index("AVX512-BF16")
CAP_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")  # oneDNN reads them in this order
# oneDNN's ISA names (its cpu_isa_t order) -> the highest LEVELS entry the cap allows.
_CAP_LEVELS = {
    "SSE41": 0, "AVX": 0,
    "AVX2": 1, "AVX2_VNNI": 1, "AVX2_VNNI_2": 1,
    "AVX512_CORE": 2, "AVX512_CORE_VNNI": 2,
    "AVX512_CORE_BF16": 3, "AVX10_1_512": 3, "AVX512_CORE_FP16": 3,
    "AVX10_1_512_AMX": 4, "AVX512_CORE_AMX": 4, "AVX10_1_512_AMX_FP16": 4,
    "AVX512_CORE_AMX_FP16": 4, "AVX10_2_512": 4, "AVX10_2_512_AMX_2": 4,
}


@dataclass(frozen=True)
class CpuCapability:
    """The CPU's own level, the oneDNN cap in effect (if any) and the level that results."""

    model: str
    hardware: str  # a LEVELS entry
    level: str  # the effective LEVELS entry (hardware when no cap lowers it)
    cap: str | None = None  # e.g. "ONEDNN_MAX_CPU_ISA=AVX2", only when it lowers the level

    @property
    def native_bf16(self) -> bool:
        return LEVELS.index(self.level) >= _BF16_LEVEL

    def describe(self) -> str:
        """"AVX2" or "AVX2, capped from AMX by ONEDNN_MAX_CPU_ISA=AVX2"."""
        return self.level if self.cap is None else \
            f"{self.level}, capped from {self.hardware} by {self.cap}"


def _hardware_level() -> str:
    """The CPU's level from its flags (torch's cpuinfo; False on non-x86 machines)."""
    checks = (("AMX", torch.cpu._is_amx_tile_supported),
              ("AVX512-BF16", torch.cpu._is_avx512_bf16_supported),
              ("AVX-512", torch.cpu._is_avx512_supported),
              ("AVX2", torch.cpu._is_avx2_supported))
    return next((level for level, supported in checks if supported()), LEVELS[0])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def capped_level(hardware: str, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """(effective level, the cap that lowered it or None) under oneDNN's ISA variables.

    Unknown values and "ALL"/"DEFAULT" lower nothing (oneDNN ignores them too).
    """
    for name in CAP_VARIABLES:
        value = environ.get(name, "").strip().upper()
        if value:
            allowed = _CAP_LEVELS.get(value, len(LEVELS) - 1)
            if allowed < LEVELS.index(hardware):
                return LEVELS[allowed], f"{name}={value}"
            return hardware, None
    return hardware, None


def detect_cpu(environ: Mapping[str, str] | None = None) -> CpuCapability:
    """This CPU's capability, honouring the oneDNN cap in `environ` (default os.environ)."""
    hardware = _hardware_level()
    level, cap = capped_level(hardware, os.environ if environ is None else environ)
    return CpuCapability(_cpu_model(), hardware, level, cap)


@dataclass(frozen=True)
class Bf16Support:
    """Whether a device runs bf16 natively, and the words that say which device it is."""

    native: bool
    device: str  # e.g. "this CPU (AVX2)" or "GPU NVIDIA H100"


def bf16_support(device: torch.device, cpu: CpuCapability | None = None) -> Bf16Support:
    """Native bf16 on `device`: a CUDA GPU with bf16 units, or a CPU with AMX/AVX512-BF16."""
    if device.type == "cuda":
        name = f"GPU {torch.cuda.get_device_name(device)}"
        return Bf16Support(torch.cuda.is_bf16_supported(including_emulation=False), name)
    cpu = cpu or detect_cpu()
    return Bf16Support(cpu.native_bf16, f"this CPU ({cpu.describe()})")
