"""Drawing with replacement goes on until the count is met or the pool is exhausted."""

import numpy as np
import pytest

from hardneg.sample._draw import SeparationGuard, draw_with_replacement, draw_without_replacement


def _locate(starts):
    return lambda rows: (np.zeros(len(rows), dtype=np.int64), starts[rows])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("pool", "need"), [(50, 10), (50, 50), (50, 80), (1000, 900)])
def test_without_separation_the_count_is_met_or_the_pool_taken_whole(seed, pool, need):
    starts = np.arange(pool, dtype=np.float64) * 10.0
    kept, duplicates, rejected = draw_with_replacement(
        np.random.default_rng(seed), pool, need, _locate(starts), SeparationGuard(0.0)
    )
    assert len(kept) == min(pool, need) and len(np.unique(kept)) == len(kept)
    assert rejected == 0 and duplicates >= 0


@pytest.mark.parametrize("seed", range(5))
def test_with_separation_a_short_pool_is_drawn_whole_like_without_replacement(seed):
    # starts every 10 ms, separation 25 ms: at most every third start can be kept; 200 asked of 300
    starts = np.arange(300, dtype=np.float64) * 10.0
    with_rep = draw_with_replacement(np.random.default_rng(seed), 300, 200, _locate(starts), SeparationGuard(25.0))
    without = draw_without_replacement(np.random.default_rng(seed), 300, 200, _locate(starts), SeparationGuard(25.0))
    kept, _, rejected = with_rep
    assert len(kept) + rejected == 300  # every position was drawn once and judged
    assert np.diff(np.sort(starts[kept])).min() >= 25.0
    # both stop at a maximal set: no start could be added to either
    for chosen in (kept, without[0]):
        free = np.ones(300, dtype=bool)
        for start in starts[chosen]:
            free &= np.abs(starts - start) >= 25.0
        assert not free.any()
    assert len(kept) >= 0.8 * len(without[0])
