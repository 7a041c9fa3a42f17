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
from rfdreid.training import precision, trainer
from rfdreid.training.checkpoint import load_checkpoint
from rfdreid.errors import ReIDError
from rfdreid.hardware import Bf16Support, CpuCapability, bf16_support, capped_level

from oracles import ONEDNN_CAP_LEVELS, cpu_level, run_python
from tiny import TINY_OVERRIDES


def _train_and_spy(protocol, out, monkeypatch, *extra: str,
                   resume: bool = False) -> tuple[list[torch.dtype], list[bool], dict]:
    """Train the tiny B-F; returns the first conv's input dtypes, NHWC flags and checkpoint."""
    dtypes: list[torch.dtype] = []
    nhwc: list[bool] = []
    build = trainer.build_training_model

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

    monkeypatch.setattr(trainer, "build_training_model", spying_build)
    cfg = load_config(None, [*TINY_OVERRIDES, f"data.protocol={protocol}",
                             f"train.out_dir={out}", *extra])
    return dtypes, nhwc, load_checkpoint(trainer.train(cfg, resume=resume, progress=False))


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


NATIVE, EMULATED = Bf16Support(True, "this CPU (AMX)"), Bf16Support(False, "this CPU (AVX2)")


def test_auto_picks_bf16_only_where_it_is_native():
    assert precision.choose_precision("auto", NATIVE).precision == "bf16"
    slow = precision.choose_precision("auto", EMULATED)
    assert (slow.precision, slow.auto, slow.warning) == ("fp32", True, None)
    assert slow.line() == "precision auto -> fp32: this CPU (AVX2) has no native bf16"
    for requested in ("fp32", "bf16"):
        assert precision.choose_precision(requested, NATIVE).precision == requested
    assert precision.choose_precision("bf16", NATIVE).warning is None


def test_explicit_bf16_without_native_bf16_warns_once_naming_the_cost(tiny_protocol, tmp_path,
                                                                      monkeypatch, capsys):
    monkeypatch.setattr(precision, "bf16_support", lambda device: EMULATED)
    dtypes, _, state = _train_and_spy(tiny_protocol, tmp_path / "run", monkeypatch,
                                      "train.precision=bf16")
    assert set(dtypes) == {torch.bfloat16}  # still what was asked for
    err = capsys.readouterr().err
    assert err.count("warning: train.precision=bf16") == 1
    assert "~13x slower" in err and "train.precision=auto" in err
    assert state["precision"] == {"value": "bf16", "auto": False, "reason": "train.precision=bf16"}


def test_resumed_auto_run_keeps_the_precision_its_checkpoint_chose(tiny_protocol, tmp_path,
                                                                   monkeypatch, capsys):
    """Started where bf16 is native, resumed on a machine without it: still bf16."""
    out = tmp_path / "run"
    monkeypatch.setattr(precision, "bf16_support", lambda device: NATIVE)
    dtypes, _, state = _train_and_spy(tiny_protocol, out, monkeypatch, "train.iterations=2",
                                      "train.precision=auto")
    assert set(dtypes) == {torch.bfloat16} and state["config"]["train"]["precision"] == "auto"
    assert state["precision"] == {"value": "bf16", "auto": True,
                                  "reason": "this CPU (AMX) runs bf16 natively"}
    assert "precision auto -> bf16: this CPU (AMX) runs bf16 natively" in capsys.readouterr().out

    monkeypatch.setattr(precision, "bf16_support", lambda device: EMULATED)
    dtypes, _, state = _train_and_spy(tiny_protocol, out, monkeypatch, "train.precision=auto",
                                      resume=True)
    assert state["iteration"] == 4 and dtypes and set(dtypes) == {torch.bfloat16}
    assert state["precision"]["value"] == "bf16" and state["precision"]["auto"] is True
    err = capsys.readouterr().err
    assert err.count("warning: resuming in bf16") == 1 and "auto would choose fp32" in err


PROBE = ("import torch; from rfdreid.training.precision import resolve_precision; "
         "print(resolve_precision('auto', torch.device('cpu')).line())")


@pytest.mark.parametrize("cap", [None, *ONEDNN_CAP_LEVELS])
def test_auto_follows_the_cpu_flags_and_the_onednn_cap(cap: str | None):
    """Oracle: the kernel's CPU flags, and the cap's place in oneDNN's ISA order (bf16 needs
    AVX512_CORE_BF16 or above); the decision runs in a fresh process under the variable."""
    hardware, allowed = cpu_level(), ONEDNN_CAP_LEVELS.get(cap or "", 4)
    line = run_python(PROBE, cap)
    assert line.startswith(f"precision auto -> {'bf16' if min(hardware, allowed) >= 3 else 'fp32'}"
                           ": this CPU (")
    assert (f"by ONEDNN_MAX_CPU_ISA={cap}" in line) == (allowed < hardware)


def test_the_cap_lowers_the_level_only_below_the_hardware():
    assert capped_level("AMX", {"ONEDNN_MAX_CPU_ISA": "avx2"}) == (
        "AVX2", "ONEDNN_MAX_CPU_ISA=AVX2")
    assert capped_level("AMX", {"DNNL_MAX_CPU_ISA": "AVX512_CORE_BF16"}) == (
        "AVX512-BF16", "DNNL_MAX_CPU_ISA=AVX512_CORE_BF16")
    assert capped_level("AVX2", {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}) == ("AVX2", None)
    assert capped_level("AMX", {"ONEDNN_MAX_CPU_ISA": "ALL"}) == ("AMX", None)
    capped = CpuCapability("x", "AMX", "AVX2", "ONEDNN_MAX_CPU_ISA=AVX2")
    assert bf16_support(torch.device("cpu"), capped) == Bf16Support(
        False, "this CPU (AVX2, capped from AMX by ONEDNN_MAX_CPU_ISA=AVX2)")
