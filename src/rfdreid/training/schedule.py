"""The learning-rate schedule, as a pure function of the step.

The paper (section 4.1) divides lr by 10 after half the iterations (`step`, the default).
`cosine` decay and a linear warm-up are the levers issue #13 measures for short CPU
schedules. Because lr depends only on (step, total, config), a resumed run needs no
scheduler state, and a resume that changes train.lr or train.iterations re-derives the
rest of the schedule from the new values.
"""

from __future__ import annotations

import math

from rfdreid.config import TrainConfig


def lr_at(t: TrainConfig, step: int, total: int) -> float:
    """lr of optimiser step `step` (0-based) in a run of `total` steps.

    Warm-up ramps linearly from lr / warmup_iters to lr over the first warmup_iters steps;
    `step` then divides by 10 from step int(total * lr_decay_at) on; `cosine` falls from lr
    towards 0 over the steps left after warm-up.
    """
    if step < t.warmup_iters:
        return t.lr * (step + 1) / t.warmup_iters
    if t.lr_schedule == "step":
        return t.lr * (0.1 if step >= max(1, int(total * t.lr_decay_at)) else 1.0)
    done = (step - t.warmup_iters) / max(1, total - t.warmup_iters)
    return t.lr * 0.5 * (1.0 + math.cos(math.pi * done))
