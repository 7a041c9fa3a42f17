from collections import Counter

import pytest

from rfdreid.training.samplers import GroupedBatchSampler
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


def test_a_group_with_k_or_more_images_gives_k_distinct_ones():
    """PK sampling draws without replacement whenever a group can fill its K slots: a group
    of exactly K images appears whole, a larger one without repeats."""
    labels = [0] * 3 + [1] * 7  # group 0 has exactly K = 3 images
    s = GroupedBatchSampler(labels, groups_per_batch=2, per_group=3, seed=0, num_iters=30)
    for b in s:
        picked = [i for i, _ in b]
        assert sorted(i for i in picked if labels[i] == 0) == [0, 1, 2]
        assert len(set(picked)) == 6


def test_augmentation_seeds_are_spread_over_a_wide_range():
    """Each item gets its own augmentation seed: over 240 items no seed value is shared by
    many (a narrow range, e.g. 62 values, would repeat augmentations)."""
    seeds = [a for b in GroupedBatchSampler(LABELS, 4, 3, seed=0, num_iters=20) for _, a in b]
    assert len(seeds) == 240 and len(set(seeds)) >= 235 and min(seeds) >= 0


def test_length_is_the_iterations_left():
    assert len(GroupedBatchSampler(LABELS, 4, 2, seed=0, num_iters=10)) == 10
    resumed = GroupedBatchSampler(LABELS, 4, 2, seed=0, start_iter=7, num_iters=10)
    assert len(resumed) == 3 == len(list(resumed))
    done = GroupedBatchSampler(LABELS, 4, 2, seed=0, start_iter=10, num_iters=10)
    assert len(done) == 0 == len(list(done))
