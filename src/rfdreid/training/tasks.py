"""The paper's two baselines as one object each (section 3): what B-F and B-R train on.

B-F learns person identities (batches of P ids x K images, classifiers over the training
ids); B-R learns resolution classes (batches balanced over the classes, classifiers over
the protocol's resolution classes: factors on MLR sets, pixel-count pseudo-labels on real
ones). Everything that differs between them is here, so the training loop, checkpoints
and fine-tuning ask the task instead of testing `train.task`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rfdreid.config import TASK_NAMES, ExperimentConfig, TrainConfig
from rfdreid.data.records import ImageRecord, Protocol


@dataclass(frozen=True)
class Task:
    """One baseline: its config name, its name in the paper, what its labels are."""

    name: str  # train.task
    model: str  # "B-F" or "B-R"
    labelled_by: str  # what its classifiers predict, for messages

    def label(self, record: ImageRecord) -> int:
        raise NotImplementedError

    def num_classes(self, protocol: Protocol) -> int:
        raise NotImplementedError

    def batch_shape(self, t: TrainConfig, num_labels: int) -> tuple[int, int]:
        """(groups per batch, images per group) of the sampler."""
        raise NotImplementedError

    def targets(self, pids: torch.Tensor, res_labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class _Identity(Task):
    def label(self, record: ImageRecord) -> int:
        return record.pid

    def num_classes(self, protocol: Protocol) -> int:
        return protocol.num_train_pids

    def batch_shape(self, t: TrainConfig, num_labels: int) -> tuple[int, int]:
        return t.num_ids, t.num_instances

    def targets(self, pids: torch.Tensor, res_labels: torch.Tensor) -> torch.Tensor:
        return pids


class _Resolution(Task):
    def label(self, record: ImageRecord) -> int:
        return record.res_label

    def num_classes(self, protocol: Protocol) -> int:
        return protocol.num_res_classes

    def batch_shape(self, t: TrainConfig, num_labels: int) -> tuple[int, int]:
        return num_labels, t.per_resolution

    def targets(self, pids: torch.Tensor, res_labels: torch.Tensor) -> torch.Tensor:
        return res_labels


TASKS: dict[str, Task] = {
    "id": _Identity("id", "B-F", "person ids"),
    "resolution": _Resolution("resolution", "B-R", "resolution labels"),
}
assert tuple(TASKS) == TASK_NAMES  # config validates the names without importing this


def task_of(cfg: ExperimentConfig) -> Task:
    return TASKS[cfg.train.task]
