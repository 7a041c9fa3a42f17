"""Batch samplers for B-F (P identities x K images) and B-R (balanced resolutions).

Why stateless per iteration: batch i is drawn from an RNG seeded by (seed, i, rank), so a
resumed run sees exactly the batches the uninterrupted run would have seen, every DDP rank
gets its own batches, and no sampler state has to be checkpointed. Each item is an
`(index, aug_seed)` pair: the dataset seeds its augmentation from it, which keeps training
deterministic whatever the number of loader workers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import numpy as np

from rfdreid.errors import ReIDError

Batch = list[tuple[int, int]]


class GroupedBatchSampler:
    """Draws `groups_per_batch` groups, then `per_group` items of each, per iteration.

    labels: [N] group label of every training item (person id for B-F, resolution
    class for B-R). A group with fewer than `per_group` items is sampled with replacement.
    """

    def __init__(
        self,
        labels: Sequence[int],
        groups_per_batch: int,
        per_group: int,
        seed: int,
        num_iters: int,
        start_iter: int = 0,
        rank: int = 0,
    ) -> None:
        by_label: dict[int, list[int]] = defaultdict(list)
        for i, lab in enumerate(labels):
            by_label[int(lab)].append(i)
        self.groups = [np.asarray(v) for _, v in sorted(by_label.items())]
        if len(self.groups) < groups_per_batch:
            raise ReIDError(
                f"a batch needs {groups_per_batch} distinct labels but the training set has "
                f"{len(self.groups)}; lower train.num_ids or use a larger training set"
            )
        self.groups_per_batch = groups_per_batch
        self.per_group = per_group
        self.seed = seed
        self.start_iter = start_iter
        self.num_iters = num_iters
        self.rank = rank

    def batch(self, iteration: int) -> Batch:
        """The batch of one iteration; a pure function of (seed, iteration, rank)."""
        rng = np.random.default_rng([self.seed, iteration, self.rank])
        chosen = rng.choice(len(self.groups), self.groups_per_batch, replace=False)
        out: Batch = []
        for g in chosen:
            members = self.groups[g]
            pick = rng.choice(members, self.per_group, replace=len(members) < self.per_group)
            out.extend((int(i), int(rng.integers(2**31))) for i in pick)
        return out

    def __iter__(self) -> Iterator[Batch]:
        for it in range(self.start_iter, self.num_iters):
            yield self.batch(it)

    def __len__(self) -> int:
        return max(0, self.num_iters - self.start_iter)
