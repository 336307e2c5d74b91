"""Contract of every registered negative strategy and pool (imbalanced-learn's ``test_common.py`` model).

Every strategy draws from registered pools and labels windows with kinds of the dataset's vocabulary; every
pool's mask is a fresh boolean array over the candidates that selects only windows its labels describe; and
sampling with a strategy is the same for the same seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hardneg._schema import NEGATIVE_KINDS
from hardneg.io import Recording
from hardneg.sample import NEGATIVE_POOLS, NEGATIVE_STRATEGIES, SamplingConfig, sample_windows
from hardneg.sample._candidates import CandidatePool

STRATEGY_NAMES = list(NEGATIVE_STRATEGIES)
POOL_KINDS = list(NEGATIVE_POOLS)

FS = 100.0


def recording(n_seconds=120, seed=0) -> Recording:
    rng = np.random.default_rng(seed)
    n = int(n_seconds * FS)
    data = [rng.normal(size=n) for _ in range(2)]
    return Recording("r0", "g0", 0.0, FS, ["u", "v"], data, "r0.parquet")


def events() -> pd.DataFrame:
    t_ms = [10_000.0, 30_000.0, 34_000.0, 60_000.0, 90_000.0]
    return pd.DataFrame(
        {"recording": ["r0"] * len(t_ms), "t_ms": t_ms, "end_ms": t_ms, "label": [None] * len(t_ms),
         "event_id": np.arange(len(t_ms))}
    )  # fmt: skip


def candidate_pool() -> CandidatePool:
    """Twenty candidates: 4-7 near event 3, 12-19 far, the rest neither."""
    start = np.arange(20, dtype=np.int64) * 50
    far = np.zeros(20, dtype=bool)
    far[12:] = True
    near_rows = np.arange(4, 8)
    part = {
        "recording": 0,
        "start_sample": start,
        "far": far,
        "motion": np.linspace(0.0, 1.0, 20),
        "near_rows": near_rows,
        "near_event": np.full(len(near_rows), 3, dtype=np.int64),
        "near_event_t": np.full(len(near_rows), 2500.0),
    }
    return CandidatePool([part], [recording(n_seconds=20)])


def test_registries_name_their_entries():
    assert STRATEGY_NAMES == ["near", "far", "mixed", "uniform"]
    assert set(POOL_KINDS) == {"near", "far", "uniform"}
    assert all(NEGATIVE_STRATEGIES[name].name == name for name in STRATEGY_NAMES)
    assert all(NEGATIVE_POOLS[kind].kind == kind for kind in POOL_KINDS)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_draws_registered_pools_and_labels_known_kinds(name):
    strategy = NEGATIVE_STRATEGIES[name]
    assert strategy.description and strategy.pools
    assert set(strategy.pools) <= set(NEGATIVE_POOLS)
    assert set(strategy.kinds) <= set(NEGATIVE_KINDS)
    for total in (0, 1, 7, 100):
        requested = strategy.requested(total, near_fraction=0.3)
        assert list(requested) == list(strategy.pools)
        assert sum(requested.values()) == total and min(requested.values()) >= 0


@pytest.mark.parametrize("kind", POOL_KINDS)
def test_pool_mask_stays_within_the_candidates_it_describes(kind):
    pool = NEGATIVE_POOLS[kind]
    candidates = candidate_pool()
    assert pool.kind in NEGATIVE_KINDS and set(pool.kinds) <= set(NEGATIVE_KINDS)
    mask = pool.mask(candidates)
    assert mask.dtype == bool and mask.shape == (len(candidates),)
    assert mask.any()
    mask[:] = False  # the draw narrows the mask in place: that must not touch the pool
    again = pool.mask(candidates)
    assert again.any()
    positions = np.flatnonzero(again)
    near_event, _ = candidates.near_event(positions)
    labels = pool.labels(near_event)
    assert set(labels) <= set(pool.kinds)
    near = candidates.near_mask()[positions]
    assert (near[labels == "near"]).all(), "a window labelled near is near an event"
    assert candidates.far[positions][labels == "far"].all(), "a window labelled far is far from every event"
    if kind == "far":
        assert not near.any()


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_sampling_with_a_strategy_is_deterministic_and_labels_its_kinds(name):
    strategy = NEGATIVE_STRATEGIES[name]
    config = SamplingConfig(window_ms=500.0, neg_strategy=name, neg_mult=3, near_max_ms=3000.0, far_min_ms=3000.0)
    first = sample_windows([recording()], events(), config, seed=5)
    again = sample_windows([recording()], events(), config, seed=5)
    pd.testing.assert_frame_equal(first.index, again.index)
    assert first.report == again.report
    assert list(first.report["negatives"]["requested"]) == list(strategy.pools)
    negatives = first.index[first.index["label"] == 0]
    assert len(negatives) and set(negatives["kind"]) <= set(strategy.kinds)
    other = sample_windows([recording()], events(), config, seed=6)
    assert not first.index.equals(other.index), "another seed draws other negatives"
