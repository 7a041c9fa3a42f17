"""Training lengths from the shipped presets against the paper's 500 × #ids iterations."""

from __future__ import annotations

from rfdreid.config import load_config
from rfdreid.training.trainer import PAPER_ITERS_PER_ID
from rfdreid.report import fmt
from rfdreid.report.data import Results

TRAIN_IDS = {"caviar": 25, "market": 751}  # training identities per split (paper section 4.1)
PRESETS = {  # placeholder name -> (preset, dataset)
    "caviar_bf": ("cpu_caviar_bf", "caviar"),
    "caviar_br": ("cpu_caviar_br", "caviar"),
    "market_bf": ("cpu_mlr_market1501_bf", "market"),
    "market_br": ("cpu_mlr_market1501_br", "market"),
}


def paper_iterations(dataset: str) -> int:
    return PAPER_ITERS_PER_ID * TRAIN_IDS[dataset]


def share_of_paper(iterations: float, dataset: str) -> str:
    """A schedule as a percentage of the paper's, the page's measure of the scale-down."""
    return fmt.num(100 * iterations / paper_iterations(dataset))


def values(res: Results) -> dict[str, str]:
    out = {f"schedule.{d}.paper_iterations": fmt.thousands(paper_iterations(d)) for d in TRAIN_IDS}
    for name, (preset, dataset) in PRESETS.items():
        train = load_config(preset).train
        out[f"schedule.{name}.iterations"] = str(train.iterations)
        out[f"schedule.{name}.lr"] = f"{train.lr:.0e}".replace("e-0", "e-")
        out[f"schedule.{name}.percent"] = share_of_paper(train.iterations, dataset)
    return out


def tables(res: Results) -> dict[str, str]:
    return {}
