from collections import Counter

import pytest

from rfdreid.engine.samplers import GroupedBatchSampler
from rfdreid.errors import ReIDError

LABELS = [i // 5 for i in range(50)] + [10, 10]  # ten ids with 5 images, one with 2


def test_pk_batches_have_p_ids_of_k_images():
    s = GroupedBatchSampler(LABELS, groups_per_batch=4, per_group=3, seed=1, num_iters=20)
    batches = list(s)
    assert len(batches) == 20
    for b in batches:
        counts = Counter(LABELS[i] for i, _ in b)
        assert len(counts) == 4 and set(counts.values()) == {3}


def test_small_group_sampled_with_replacement():
    s = GroupedBatchSampler(LABELS, groups_per_batch=11, per_group=4, seed=0, num_iters=1)
    (b,) = list(s)
    assert Counter(LABELS[i] for i, _ in b)[10] == 4


def test_resume_reproduces_batches_and_ranks_differ():
    full = list(GroupedBatchSampler(LABELS, 4, 2, seed=3, num_iters=10))
    resumed = list(GroupedBatchSampler(LABELS, 4, 2, seed=3, start_iter=6, num_iters=10))
    assert resumed == full[6:]
    other_rank = GroupedBatchSampler(LABELS, 4, 2, seed=3, num_iters=1, rank=1).batch(0)
    assert other_rank != full[0]


def test_too_few_labels_is_a_clear_error():
    with pytest.raises(ReIDError, match="distinct labels"):
        GroupedBatchSampler([0, 0, 1], groups_per_batch=3, per_group=1, seed=0, num_iters=1)
