"""train.precision and train.channels_last reach the convolutions, and are recorded.

Oracle: a forward hook on the first convolution records the dtype and memory layout of
the tensor it receives during a real `trainer.train` run; autocast that does nothing, or
a layout that is never applied, fails these tests.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rfdreid.config import load_config
from rfdreid.engine import precision, trainer
from rfdreid.engine.checkpoint import load_checkpoint
from rfdreid.errors import ReIDError

from tiny import TINY_OVERRIDES


def _train_and_spy(protocol, out, monkeypatch, *extra: str) -> tuple[list[torch.dtype], list[bool], dict]:
    """Train the tiny B-F; returns the first conv's input dtypes, NHWC flags and checkpoint."""
    dtypes: list[torch.dtype] = []
    nhwc: list[bool] = []
    build = trainer.build_model

    def spying_build(*args, **kwargs) -> nn.Module:
        model = build(*args, **kwargs)
        conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))

        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            if module.training:
                dtypes.append(output.dtype)
                nhwc.append(inputs[0].is_contiguous(memory_format=torch.channels_last)
                            and not inputs[0].is_contiguous())

        conv.register_forward_hook(hook)
        return model

    monkeypatch.setattr(trainer, "build_model", spying_build)
    cfg = load_config(None, [*TINY_OVERRIDES, f"data.protocol={protocol}",
                             f"train.out_dir={out}", *extra])
    return dtypes, nhwc, load_checkpoint(trainer.train(cfg, progress=False))


def test_bf16_autocast_and_channels_last_reach_the_convolutions(tiny_protocol, tmp_path,
                                                                monkeypatch):
    dtypes, nhwc, state = _train_and_spy(tiny_protocol, tmp_path / "bf16", monkeypatch,
                                         "train.precision=bf16", "train.channels_last=true")
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert all(nhwc)
    assert state["config"]["train"]["precision"] == "bf16"
    assert state["config"]["train"]["channels_last"] is True
    # autocast rounds activations only: the stored weights stay fp32
    assert all(t.dtype == torch.float32 for t in state["model"].values() if t.is_floating_point())


def test_fp32_contiguous_is_plain_fp32(tiny_protocol, tmp_path, monkeypatch):
    dtypes, nhwc, state = _train_and_spy(tiny_protocol, tmp_path / "fp32", monkeypatch,
                                         "train.precision=fp32", "train.channels_last=false")
    assert dtypes and set(dtypes) == {torch.float32}
    assert not any(nhwc)
    assert state["config"]["train"]["precision"] == "fp32"


def test_fp16_needs_cuda_and_unknown_precision_is_refused(tiny_protocol, tmp_path):
    cfg = load_config(None, [*TINY_OVERRIDES, f"data.protocol={tiny_protocol}",
                             f"train.out_dir={tmp_path / 'fp16'}", "train.precision=fp16"])
    if not torch.cuda.is_available():
        with pytest.raises(ReIDError, match="fp16 needs a CUDA device"):
            trainer.train(cfg, progress=False)
    with pytest.raises(ReIDError, match="train.precision"):
        load_config(None, ["train.precision=fp8"])


def test_precision_cannot_change_on_resume(tiny_protocol, tmp_path):
    out = tmp_path / "run"
    base = [*TINY_OVERRIDES, f"data.protocol={tiny_protocol}", f"train.out_dir={out}"]
    trainer.train(load_config(None, [*base, "train.precision=fp32"]), progress=False)
    with pytest.raises(ReIDError, match=r"train.precision 'fp32' -> 'bf16'"):
        trainer.train(load_config(None, [*base, "train.precision=bf16", "train.iterations=6"]),
                      resume=True, progress=False)


@pytest.mark.filterwarnings("ignore:torch.cuda.amp.GradScaler is enabled")
def test_grad_scaler_only_for_fp16_on_cuda():
    cpu = torch.device("cpu")
    assert precision.grad_scaler("bf16", cpu) is None
    assert precision.grad_scaler("fp32", cpu) is None
    assert precision.grad_scaler("fp16", torch.device("cuda")) is not None


def test_cudnn_autotuning_is_switched_on_for_cuda_only(monkeypatch):
    """Training batches have one shape, so the trainer lets cuDNN pick its fastest
    convolution algorithm on CUDA; on CPU the global flag must stay as the user left it."""
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    precision.autotune_convolutions(torch.device("cpu"))
    assert torch.backends.cudnn.benchmark is False
    precision.autotune_convolutions(torch.device("cuda", 0))
    assert torch.backends.cudnn.benchmark is True
