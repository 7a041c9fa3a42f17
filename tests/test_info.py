"""`rfdreid info`: one line per fact, the precision line agreeing with `auto`'s decision."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
import torch

from rfdreid.environment import package_version

from oracles import cpu_level, run_python

FIELDS = ["rfdreid", "torch", "numpy", "numba", "faiss", "onnxruntime", "cpu",
          "instruction set", "torch threads", "gpus", "precision", "imagenet mobilenetv2",
          "shared data"]


def fields(stdout: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in stdout.splitlines())


def test_info_prints_every_field_once(cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "data" / "CAVIAR4REID").mkdir(parents=True)
    monkeypatch.setenv("RFDREID_SHARED_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    result = cli("info")
    assert result.code == 0
    got = {k: v.strip() for k, v in fields(result.out).items()}
    assert list(got) == FIELDS
    assert (got["torch"], got["numpy"]) == (torch.__version__, numpy.__version__)
    assert got["torch threads"] == str(torch.get_num_threads())
    assert got["shared data"] == f"{tmp_path / 'data'}: CAVIAR4REID"
    native = cpu_level() >= 3 and not torch.cuda.is_available()
    assert got["precision"].startswith(f"auto -> {'bf16' if native else 'fp32'} on ")
    assert "capped" not in got["instruction set"]


def test_missing_optional_package_says_not_installed() -> None:
    assert package_version("rfdreid_no_such_module", ("rfdreid-no-such",)) == "not installed"


@pytest.mark.skipif(torch.cuda.is_available(), reason="auto decides for the GPU there")
def test_under_an_avx2_cap_info_says_fp32_and_names_the_cap() -> None:
    got = fields(run_python("from rfdreid.cli.main import main; import sys; "
                            "sys.argv = ['rfdreid', 'info']; main()", "AVX2"))
    assert got["precision"].strip().startswith("auto -> fp32 on cpu: ")
    if cpu_level() > 1:
        assert "capped from" in got["instruction set"]
        assert "ONEDNN_MAX_CPU_ISA=AVX2" in got["instruction set"]
