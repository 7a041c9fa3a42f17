"""What `rfdreid info` reports: versions, CPU level, threads, GPUs, the precision `auto`
picks, the offline ImageNet weights and the shared datasets.

Why: speed and even results depend on the machine (bf16 is ~13x slower without native
support; AVX2 kernels round differently), so a bug report or a benchmark row needs these
facts in one paste.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

import torch

import rfdreid
from rfdreid.training.precision import choose_precision
from rfdreid.errors import ReIDError
from rfdreid.hardware import bf16_support, detect_cpu
from rfdreid.models.pretrained import imagenet_path

# module -> the distributions that may provide it (first installed one wins)
OPTIONAL = {"numba": ("numba",), "faiss": ("faiss-cpu", "faiss-gpu", "faiss"),
            "onnxruntime": ("onnxruntime", "onnxruntime-gpu")}
SHARED_DATA_VARIABLE = "RFDREID_SHARED_DATA"


def package_version(module: str, distributions: tuple[str, ...]) -> str:
    """Installed version of `module`'s distribution, or "not installed"."""
    if importlib.util.find_spec(module) is None:
        return "not installed"
    for dist in distributions:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "installed (version unknown)"


def training_device() -> torch.device:
    """The device `rfdreid train` uses (training/distributed.py): the first GPU, else the CPU."""
    return torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")


def shared_data(environ: Mapping[str, str]) -> tuple[Path, list[str]]:
    """The shared dataset folder (as the tests find it: $RFDREID_SHARED_DATA, else
    ../shared/data from here) and the dataset folders it holds."""
    root = Path(environ.get(SHARED_DATA_VARIABLE) or Path.cwd().parent / "shared" / "data")
    found = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return root, found


def report(environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(field, value) pairs, one per line of `rfdreid info`."""
    environ = os.environ if environ is None else environ
    cpu = detect_cpu(environ)
    device = training_device()
    choice = choose_precision("auto", bf16_support(device, cpu))
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    try:
        weights = f"installed ({imagenet_path('mobilenetv2')})"
    except ReIDError as e:
        weights = f"not installed: {e}"
    root, datasets = shared_data(environ)
    return [
        ("rfdreid", rfdreid.__version__),
        ("torch", torch.__version__),
        ("numpy", package_version("numpy", ("numpy",))),
        *((name, package_version(name, dists)) for name, dists in OPTIONAL.items()),
        ("cpu", cpu.model),
        ("instruction set", f"{cpu.describe()}; torch kernels "
                            f"{torch.backends.cpu.get_cpu_capability()}"),
        ("torch threads", str(torch.get_num_threads())),
        ("gpus", ", ".join(gpus) or "none"),
        ("precision", f"auto -> {choice.precision} on {device.type}: {choice.reason}"),
        ("imagenet mobilenetv2", weights),
        ("shared data", f"{root}: {', '.join(datasets)}" if datasets
         else f"none at {root} (set {SHARED_DATA_VARIABLE} to its folder)"),
    ]
