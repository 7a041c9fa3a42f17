"""Where the numbers stand: B-F R1 against the paper and against issue #13's targets."""

from __future__ import annotations

from rfdreid.report import fmt
from rfdreid.report.data import Results
from rfdreid.report.stats import mean, sample_sd

TARGETS = {"caviar": 40.0, "mlr": 65.0}  # issue #13's B-F R1 targets on the single gallery


def here(res: Results) -> dict[str, float]:
    caviar = list(res.by_run("caviar_600", gallery="single", method="B-F").values())
    return {"caviar": mean(caviar), "mlr": float(res.one("mlr_market_4000", gallery="single", method="B-F")["R1"])}


def paper(res: Results) -> dict[str, float]:
    return {d: float(res.one("paper", key=f"{d}.single.B-F")["R1"]) for d in TARGETS}


def tables(res: Results) -> dict[str, str]:
    caviar = list(res.by_run("caviar_600", gallery="single", method="B-F").values())
    seed0 = list(res.by_run("caviar_600", gallery="single", method="B-F", seed="0").values())
    now, ref = here(res), paper(res)
    rows = [
        ["CAVIAR, single gallery (1 HR image per id), 10 splits", fmt.num(ref["caviar"]), fmt.num(TARGETS["caviar"], 0),
         f"{fmt.mean_sd(mean(caviar), sample_sd(caviar))} (bf16, 600 iterations, 3 training seeds; seed 0 alone "
         f"{fmt.num(mean(seed0))})", fmt.signed(now["caviar"] - ref["caviar"])],
        ["MLR-Market-1501, single gallery", fmt.num(ref["mlr"]), fmt.num(TARGETS["mlr"], 0),
         f"{fmt.num(now['mlr'])} (bf16, 4000 iterations)", fmt.signed(now["mlr"] - ref["mlr"])],
    ]
    return {"standing": fmt.table(["", "paper B-F R1", "target of issue #13", "here (B-F R1)", "gap to the paper"], rows)}


def values(res: Results) -> dict[str, str]:
    now, ref = here(res), paper(res)
    out = {}
    for d in TARGETS:
        out[f"standing.{d}.gap"] = fmt.signed(now[d] - ref[d])
        out[f"standing.{d}.to_target"] = fmt.num(TARGETS[d] - now[d])
        out[f"standing.{d}.target"] = fmt.num(TARGETS[d], 0)
    return out
