"""Issue #24: the same code on a CPU with native bf16 (AMX) and on one without (AVX2):
the training step in every precision, what `auto` picks, torch.compile, and the demo."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results

CPUS = ("amx", "avx2")  # the cpu column of docs/results/cpu_kinds_step.csv and demo.csv
STEP_VARIANTS = ("before", "fp32_contiguous", "fp32_channels_last", "fp32_channels_last_compile",
                 "bf16_contiguous", "bf16_channels_last")


def step(res: Results, cpu: str, preset: str, variant: str) -> float | None:
    """img/s of one variant; None where it did not run (its note says why)."""
    value = res.one("cpu_kinds_step", cpu=cpu, preset=preset, variant=variant)["img_s"]
    return float(value) if value else None


def measured(res: Results, cpu: str, preset: str, variant: str) -> float:
    value = step(res, cpu, preset, variant)
    if value is None:
        raise KeyError(f"cpu_kinds_step has no img/s for {cpu} {preset} {variant}")
    return value


def presets(res: Results) -> list[str]:
    return list(dict.fromkeys(r["preset"] for r in res.rows("cpu_kinds_step")))


def step_table(res: Results) -> str:
    """img/s per variant on both CPU kinds, each against that CPU's fp32 channels_last."""
    rows = []
    for preset in presets(res):
        for variant in STEP_VARIANTS:
            cells = []
            for cpu in CPUS:
                ips, base = step(res, cpu, preset, variant), measured(res, cpu, preset,
                                                                       "fp32_channels_last")
                cells.append(f"{fmt.num(ips)} ({ips / base:.2f}×)" if ips is not None else
                             "did not run: " + res.one("cpu_kinds_step", cpu=cpu, preset=preset,
                                                       variant=variant)["note"])
            rows.append([preset, variant.replace("_", " "), *cells])
    return fmt.table(["preset", "variant", "AMX img/s (vs fp32 channels_last)",
                      "AVX2 img/s (vs fp32 channels_last)"], rows)


def extract_table(res: Results) -> str:
    """Extraction img/s per model and variant on both CPU kinds, against that CPU's fp32."""
    rows = []
    for model in dict.fromkeys(r["model"] for r in res.rows("cpu_kinds_extract")):
        for variant in ("fp32", "fp32_compile", "bf16"):
            cells = []
            for cpu in CPUS:
                run = res.one("cpu_kinds_extract", cpu=cpu, model=model, variant=variant)
                base = float(res.one("cpu_kinds_extract", cpu=cpu, model=model,
                                     variant="fp32")["img_s"])
                first = f", first call {run['first_call_s']} s" if run["first_call_s"] else ""
                cells.append(f"{run['img_s']} ({float(run['img_s']) / base:.2f}×{first})")
            rows.append([model, variant.replace("_", " + "), *cells])
    return fmt.table(["model", "variant", "AMX img/s (vs fp32)", "AVX2 img/s (vs fp32)"], rows)


def demo_seconds(res: Results, cpu: str, config: str) -> float:
    return float(res.rows("demo", cpu=cpu, config=config)[0]["seconds"])


def demo_table(res: Results) -> str:
    rows = [[r["cpu"], r["config"], r["precision"], fmt.num(float(r["seconds"]), 0), r["gallery"],
             r["method"], r["R1"], r["mAP"]] for r in res.rows("demo")]
    return fmt.table(["CPU", "demo presets", "precision (auto)", "wall time, s", "gallery",
                      "method", "R1", "mAP"], rows)


def tables(res: Results) -> dict[str, str]:
    return {"cpu_kinds_step": step_table(res), "cpu_kinds_extract": extract_table(res),
            "demo": demo_table(res)}


def values(res: Results) -> dict[str, str]:
    out = {}
    for cpu in CPUS:
        for preset in presets(res):
            fp32 = measured(res, cpu, preset, "fp32_channels_last")
            bf16 = measured(res, cpu, preset, "bf16_channels_last")
            key = f"cpu_kinds.{cpu}.{preset}"
            out[f"{key}.fp32_img_s"] = fmt.num(fp32, 0)
            out[f"{key}.bf16_ratio"] = f"{bf16 / fp32:.2f}×"
            out[f"{key}.bf16_slowdown"] = fmt.num(fp32 / bf16, 0)
            out[f"{key}.channels_last_gain"] = (
                f"{fp32 / measured(res, cpu, preset, 'fp32_contiguous'):.2f}×")
            compiled = res.one("cpu_kinds_step", cpu=cpu, preset=preset,
                               variant="fp32_channels_last_compile")
            out[f"{key}.compile_gain"] = (f"{float(compiled['img_s']) / fp32:.2f}×"
                                          if compiled["img_s"] else "none (it did not run)")
            out[f"{key}.compile_seconds"] = (fmt.num(float(compiled["first_step_s"]), 0)
                                             if compiled["first_step_s"] else "–")
        out[f"demo.{cpu}.now.minutes"] = fmt.num(demo_seconds(res, cpu, "now") / 60)
    if res.find("demo", config="sing"):  # the demo after prepare's default became SING (issue 26)
        out["demo.amx.sing.minutes"] = fmt.num(demo_seconds(res, "amx", "sing") / 60)
    for run in res.rows("make_test"):
        key = f"make_test.{run['cpu']}"
        out[f"{key}.tests"] = run["suite_tests"]
        out[f"{key}.suite_s"] = fmt.num(float(run["suite_s"]), 0)
        out[f"{key}.minutes"] = fmt.num(float(run["total_s"]) / 60)
    amx = float(res.one("protocol_time", cpu="amx", protocol="caviar")["minutes"])
    # AVX2 trains cpu_caviar_bf in fp32 (auto), AMX in bf16: scale by the step rates
    ratio = (measured(res, "amx", "cpu_caviar_bf", "bf16_channels_last")
             / measured(res, "avx2", "cpu_caviar_bf", "fp32_channels_last"))
    out["protocol_time.caviar.amx"] = fmt.num(amx, 0)
    out["protocol_time.caviar.avx2_projected"] = fmt.num(amx * ratio, 0)
    return out
