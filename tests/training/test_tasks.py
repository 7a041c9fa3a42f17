"""B-F and B-R as task objects (training/tasks.py): each says what its batches group by,
how many classes its classifiers have and which label it trains on."""

from __future__ import annotations

import torch

from rfdreid.config import TASK_NAMES, load_config
from rfdreid.data.records import ImageRecord, Protocol
from rfdreid.training.tasks import TASKS, task_of
from rfdreid.training.trainer import build_sampler

TRAIN = [ImageRecord(path=f"{pid}_{k}.jpg", pid=pid, camid=k % 2, res_label=k % 3)
         for pid in range(6) for k in range(4)]
PROTOCOL = Protocol(dataset="toy", interpolation="bicubic", seed=0, num_res_classes=5,
                    train=TRAIN, query=[], galleries={})


def test_one_task_per_config_name():
    assert tuple(TASKS) == TASK_NAMES
    assert [TASKS[n].model for n in TASK_NAMES] == ["B-F", "B-R"]


def test_bf_batches_p_ids_of_k_images_and_trains_on_pids():
    cfg = load_config(None, ["train.num_ids=3", "train.num_instances=2"])
    task = task_of(cfg)
    assert task.num_classes(PROTOCOL) == 6
    batch = build_sampler(cfg, PROTOCOL, 0, 1, 0).batch(0)
    pids = [TRAIN[i].pid for i, _ in batch]
    assert len(batch) == 6 and len(set(pids)) == 3 and all(pids.count(p) == 2 for p in pids)
    assert task.targets(torch.tensor([7]), torch.tensor([1])).tolist() == [7]


def test_br_balances_resolution_classes_and_trains_on_them():
    cfg = load_config(None, ["train.task=resolution", "train.per_resolution=4"])
    task = task_of(cfg)
    assert task.num_classes(PROTOCOL) == 5  # the protocol's classes, not those seen in train
    batch = build_sampler(cfg, PROTOCOL, 0, 1, 0).batch(0)
    labels = [TRAIN[i].res_label for i, _ in batch]
    assert sorted(labels) == [0] * 4 + [1] * 4 + [2] * 4  # the 3 classes present, 4 each
    assert task.targets(torch.tensor([7]), torch.tensor([1])).tolist() == [1]
