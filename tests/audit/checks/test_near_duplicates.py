"""near_duplicates: exact and near copies across subsets, counted exactly against a brute-force correlation."""

import numpy as np
import pytest

from hardneg.audit import AuditContext, run_audit
from hardneg.audit.checks import near_duplicates as nd


def _run(dataset, frame):
    return run_audit(AuditContext(dataset, frame, {"strategy": "random"}), ["near_duplicates"])["near_duplicates"]


def zcorr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Brute force: correlation of per-channel z-normalised windows, every a against every b."""

    def unit(x):
        x = x.astype(np.float64)
        x = x - x.mean(axis=-1, keepdims=True)
        std = x.std(axis=-1, keepdims=True)
        x = np.where(std > 0, x / np.where(std > 0, std, 1), 0.0).reshape(len(x), -1)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return unit(a) @ unit(b).T


def expected_shares(windows, subsets):
    train = windows[subsets == "train"]
    out = {}
    for subset in ("val", "test"):
        query = windows[subsets == subset]
        corr = zcorr(query, train)
        exact = [any(np.array_equal(q, t) for t in train) for q in query]
        out[subset] = (float(np.mean(exact)), float(np.mean(corr.max(axis=1) >= nd.NEAR_CORRELATION)))
    return out


def _structured_windows(n, rng, channels=2, samples=60):
    """A few templates plus noise of varying size: correlations spread across the 0.99 threshold."""
    t = np.linspace(0, 1, samples)
    templates = np.stack([np.sin(2 * np.pi * (k + 1) * t + k) for k in range(5)])
    which = rng.integers(0, 5, n)
    noise = rng.choice([0.02, 0.08, 0.15, 0.5], n)[:, None, None]
    base = templates[which][:, None, :] * rng.uniform(0.5, 2, (n, channels, 1)) + rng.normal(0, 1, (n, channels, 1))
    return (base + noise * rng.standard_normal((n, channels, samples))).astype(np.float32)


def test_independent_windows_pass(build):
    ds = build.dataset(build.grid_index(n_recordings=5, per_recording=80), samples=50)
    result = _run(ds, build.frame(build.random_subsets(len(ds.index), seed=2)))
    assert result.verdict == "PASS"
    assert result.numbers["exact_duplicate_share"] == 0 and result.numbers["near_duplicate_share"] == 0


def test_exact_copies_fail_with_exact_share(build):
    index = build.grid_index(n_recordings=5, per_recording=80)
    rng = np.random.default_rng(4)
    windows = rng.standard_normal((len(index), 2, 50)).astype(np.float32)
    subsets = build.random_subsets(len(index), seed=5)
    test_rows, train_rows = np.flatnonzero(subsets == "test"), np.flatnonzero(subsets == "train")
    copied = test_rows[: len(test_rows) // 5]
    windows[copied] = windows[train_rows[: len(copied)]]
    result = _run(build.dataset(index, windows), build.frame(subsets))
    assert result.verdict == "FAIL"
    shares = expected_shares(windows, subsets)
    fold = result.numbers["per_fold"][0]
    assert fold["test"]["exact_share"] == shares["test"][0] == len(copied) / len(test_rows)
    assert fold["test"]["near_share"] == shares["test"][1]


def test_scaled_noisy_copies_are_near_duplicates(build):
    index = build.grid_index(n_recordings=5, per_recording=80)
    rng = np.random.default_rng(6)
    windows = rng.standard_normal((len(index), 3, 64)).astype(np.float32)
    subsets = build.random_subsets(len(index), seed=7)
    test_rows, train_rows = np.flatnonzero(subsets == "test"), np.flatnonzero(subsets == "train")
    copied = test_rows[:20]
    # 3x gain, an offset and 5% noise: not byte-equal, correlation ~0.999
    windows[copied] = 3 * windows[train_rows[:20]] + 1.5 + 0.05 * rng.standard_normal((20, 3, 64))
    result = _run(build.dataset(index, windows), build.frame(subsets))
    fold = result.numbers["per_fold"][0]
    shares = expected_shares(windows, subsets)
    assert fold["test"]["exact"] == 0
    assert fold["test"]["near_share"] == shares["test"][1] == 20 / len(test_rows)
    assert result.verdict == "FAIL"  # 20 of ~80 test windows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_near_share_matches_brute_force_on_stereotyped_signals(build, seed):
    rng = np.random.default_rng(seed)
    index = build.grid_index(n_recordings=6, per_recording=100, seed=seed)
    windows = _structured_windows(len(index), rng)
    subsets = build.random_subsets(len(index), seed=seed)
    result = _run(build.dataset(index, windows), build.frame(subsets))
    shares = expected_shares(windows, subsets)
    fold = result.numbers["per_fold"][0]
    for subset in ("val", "test"):
        assert fold[subset]["near_share"] == pytest.approx(shares[subset][1], abs=1e-12), subset
    assert 0 < shares["test"][1] < 1  # the threshold really splits these windows
    assert result.numbers["unresolved"] == 0


def test_small_share_warns(build):
    index = build.grid_index(n_recordings=10, per_recording=100)
    rng = np.random.default_rng(8)
    windows = rng.standard_normal((len(index), 2, 50)).astype(np.float32)
    subsets = build.random_subsets(len(index), seed=9, test=0.3, val=0.0)
    test_rows, train_rows = np.flatnonzero(subsets == "test"), np.flatnonzero(subsets == "train")
    n_copies = int(0.02 * len(test_rows))  # 2% near copies: above the WARN share, below FAIL
    windows[test_rows[:n_copies]] = windows[train_rows[:n_copies]] * 1.01 + 0.01
    result = _run(build.dataset(index, windows), build.frame(subsets))
    assert result.verdict == "WARN", result.numbers
    assert result.numbers["near_duplicate_share"] == n_copies / len(test_rows)


def test_constant_windows_are_exact_copies_not_near_ones(build):
    index = build.grid_index(n_recordings=4, per_recording=150)
    windows = np.random.default_rng(10).standard_normal((len(index), 2, 40)).astype(np.float32)
    windows[:3] = 0.0  # a flat-lined sensor: identical windows in several subsets
    subsets = build.random_subsets(len(index), seed=11)
    subsets[:3] = ["train", "test", "val"]
    result = _run(build.dataset(index, windows), build.frame(subsets))
    fold = result.numbers["per_fold"][0]
    assert fold["test"]["exact"] == 1 and fold["val"]["exact"] == 1
    assert fold["test"]["near_share"] == 0  # a flat window has no shape to correlate
    # one copy among more than 100 test windows: below the 1% that fails, still worth a warning
    assert fold["test"]["exact_share"] < nd.EXACT_FAIL_SHARE
    assert result.verdict == "WARN"
    assert "flat-lined" in result.explanation


def test_group_split_of_distinct_recordings_passes(build):
    rng = np.random.default_rng(12)
    index = build.grid_index(n_recordings=6, per_recording=60)
    windows = _structured_windows(len(index), rng)
    # make each recording's signals its own: shift templates per recording so no cross-recording copies
    for r in range(6):
        rows = np.flatnonzero(index["recording"].to_numpy() == f"rec{r}")
        windows[rows] += rng.standard_normal((1, 2, 60)).astype(np.float32) * 3
    subsets = build.group_subsets(index["group"], test_groups=["g0", "g1"], val_groups=["g2"])
    result = _run(build.dataset(index, windows), build.frame(subsets))
    shares = expected_shares(windows, subsets)
    assert result.numbers["near_duplicate_share"] == max(shares["val"][1], shares["test"][1])


def test_embedding_distances_never_exceed_true_distances():
    rng = np.random.default_rng(13)
    windows = _structured_windows(300, rng)
    emb = nd._Embedding(windows, np.arange(300), rng)
    a, b = rng.integers(0, 300, 2000), rng.integers(0, 300, 2000)
    true = np.linalg.norm(emb.unit(a).astype(np.float64) - emb.unit(b), axis=1)
    low = np.linalg.norm(emb.embedded[a] - emb.embedded[b], axis=1)
    assert np.all(low <= true + 1e-6)
    assert np.median(low / np.maximum(true, 1e-9)) > 0.9  # and tight: candidates are the true neighbours


def test_long_windows_are_recomputed_instead_of_kept(build, monkeypatch):
    """Beyond MAX_UNIT_BYTES the unit vectors are recomputed on demand; the counts do not change."""
    rng = np.random.default_rng(14)
    index = build.grid_index(n_recordings=5, per_recording=80, seed=14)
    windows = _structured_windows(len(index), rng)
    subsets = build.random_subsets(len(index), seed=14)
    kept = _run(build.dataset(index, windows), build.frame(subsets)).numbers["per_fold"]
    monkeypatch.setattr(nd, "MAX_UNIT_BYTES", 0)
    monkeypatch.setattr(nd, "_CHUNK_BYTES", 8 * 120 * 50)  # blocks of 50 rows
    recomputed = _run(build.dataset(index, windows), build.frame(subsets)).numbers["per_fold"]
    assert recomputed == kept


def test_exhaustive_search_resolves_what_the_candidates_miss(build, monkeypatch):
    """With one candidate per query, the exhaustive comparison still finds every near copy."""
    rng = np.random.default_rng(15)
    index = build.grid_index(n_recordings=6, per_recording=100, seed=15)
    windows = _structured_windows(len(index), rng)
    subsets = build.random_subsets(len(index), seed=15)
    monkeypatch.setattr(nd, "N_CANDIDATES", 1)
    result = _run(build.dataset(index, windows), build.frame(subsets))
    shares = expected_shares(windows, subsets)
    assert result.numbers["per_fold"][0]["test"]["near_share"] == pytest.approx(shares["test"][1], abs=1e-12)
