"""group_confound: group-driven labels on a shared-group split FAIL; disjoint or unconfounded data do not."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hardneg.audit import AuditContext, run_audit
from hardneg.audit.checks import group_confound as gc


def _run(dataset, frame, info=None):
    context = AuditContext(dataset, frame, info or {"strategy": "random"})
    return run_audit(context, ["group_confound"])["group_confound"]


def confounded(build, n_groups=8, per_group=120, seed=0):
    """Positive rate 2%..70% by group, and each group's windows carry its own offset (a "camera")."""
    prevalence = np.linspace(0.02, 0.7, n_groups)
    index = build.grid_index(n_recordings=n_groups, per_recording=per_group, prevalence=prevalence, seed=seed)
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0, 3, (n_groups, 2, 1))
    codes = index["recording"].str[3:].astype(int).to_numpy()
    windows = (rng.standard_normal((len(index), 2, 40)) + offsets[codes]).astype(np.float32)
    return build.dataset(index, windows)


def test_random_split_of_confounded_data_fails(build):
    ds = confounded(build)
    result = _run(ds, build.frame(build.random_subsets(len(ds.index), seed=1)))
    assert result.verdict == "FAIL"
    assert result.numbers["group_auc"] >= gc.GROUP_AUC_FAIL
    assert result.numbers["identification_lift"] >= gc.LIFT_FAIL
    assert result.numbers["test_windows_in_train_groups"] == 1.0
    assert "inflated" in result.explanation
    # independent check: the in-sample group rate (an upper bound of the cross-fitted one) has a similar AUC
    rate = ds.index.groupby("group")["label"].transform("mean")
    assert result.numbers["group_auc"] == pytest.approx(roc_auc_score(ds.index["label"], rate), abs=0.05)


def test_group_split_of_confounded_data_warns_not_fails(build):
    ds = confounded(build)
    subsets = build.group_subsets(ds.index["group"], test_groups=["g0", "g4", "g7"], val_groups=["g2"])
    result = _run(ds, build.frame(subsets), {"strategy": "group"})
    assert result.verdict == "WARN"
    assert result.numbers["test_windows_in_train_groups"] == 0.0
    assert result.numbers["group_auc_on_split"] == 0.5  # unseen groups all get the training rate
    assert "share no group" in result.explanation


def test_unconfounded_data_passes_on_a_random_split(build):
    index = build.grid_index(n_recordings=8, per_recording=120, prevalence=0.3, seed=3)
    ds = build.dataset(index)  # same rate everywhere, windows i.i.d. noise
    result = _run(ds, build.frame(build.random_subsets(len(index), seed=3)))
    assert result.verdict == "PASS", result.explanation
    assert abs(result.numbers["group_auc"] - 0.5) < 0.1
    assert result.numbers["identification_lift"] < gc.LIFT_WARN


def test_features_that_identify_groups_fail_even_with_equal_rates(build):
    index = build.grid_index(n_recordings=6, per_recording=100, prevalence=0.3, seed=4)
    rng = np.random.default_rng(4)
    codes = index["recording"].str[3:].astype(int).to_numpy()
    windows = (rng.standard_normal((len(index), 2, 40)) + 5.0 * codes[:, None, None]).astype(np.float32)
    result = _run(build.dataset(index, windows), build.frame(build.random_subsets(len(index), seed=4)))
    assert result.numbers["group_auc"] < gc.GROUP_AUC_WARN
    assert result.numbers["identification_accuracy"] > 0.95
    assert result.verdict == "FAIL"


def test_cross_fitted_rate_is_leave_one_out_by_hand():
    groups = np.array(["a", "a", "a", "b", "b"])
    labels = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    # with as many folds as windows each window sees the other four: rate = (pos_g + prior) / (n_g + 1)
    got = gc.cross_fitted_group_rate(groups, labels, seed=0, n_splits=5)
    expected = [
        (1 + 2 / 4) / (2 + 1),  # window 0: a has (1, 0) left, prior = 2/4
        (1 + 2 / 4) / (2 + 1),
        (2 + 3 / 4) / (2 + 1),  # window 2: a has (1, 1) left, prior = 3/4
        (1 + 3 / 4) / (1 + 1),  # window 3: b has (1) left
        (0 + 2 / 4) / (1 + 1),
    ]
    np.testing.assert_allclose(got, expected)


def test_one_group_is_skipped(build):
    index = build.grid_index(n_recordings=2, per_recording=30, groups=["same", "same"])
    result = _run(build.dataset(index), build.frame(build.random_subsets(len(index))))
    assert result.verdict == "SKIP"
