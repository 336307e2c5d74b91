"""The deployment a split is judged for: shared groups FAIL for new groups and are by design for seen groups,
while leaks in time and placement shortcuts FAIL for both."""

import json

import numpy as np
import pytest

from hardneg.audit import DEPLOYMENTS, AuditContext, audit_paths, audit_split, run_audit, write_audit
from hardneg.errors import InputError
from tests.audit.checks.test_placement_shortcut import trap_index

SPLIT_CHECKS = ["group_overlap", "temporal_overlap", "group_confound", "placement_shortcut"]


def _audit(dataset, frame, info, deployment=None, checks=SPLIT_CHECKS):
    options = {} if deployment is None else {"deployment": deployment}
    return run_audit(AuditContext(dataset, frame, info, **options), checks)


def later_in_time(index):
    """Every recording's first 70% of windows in train and the rest in test: a time-blocked holdout."""
    position = index.groupby("recording").cumcount().to_numpy()
    size = index.groupby("recording")["recording"].transform("size").to_numpy()
    return np.where(position >= 0.7 * size, "test", "train")


def alternating_blocks(index, block=5):
    """Within every group, blocks of ``block`` windows alternate between train and test: an intra-group split."""
    position = index.groupby("group").cumcount().to_numpy()
    return np.where((position // block) % 2 == 1, "test", "train")


@pytest.fixture
def spaced(build):
    """Windows 500 ms long every 2 s, so no two windows overlap: only the groups are shared."""
    index = build.grid_index(n_recordings=6, per_recording=60, spacing_ms=2000.0, window_ms=500.0, prevalence=0.3)
    return build.dataset(index)


@pytest.mark.parametrize(("strategy", "assign"), [("time", later_in_time), ("intra-group", alternating_blocks)])
def test_time_and_intra_group_splits_fail_for_new_groups_and_not_for_seen_groups(build, spaced, strategy, assign):
    frame = build.frame(assign(spaced.index))
    info = {"name": strategy + "-s0", "strategy": strategy, "gap_ms": None}
    assert set(frame.groupby("subset")["window_id"].count().index) == {"train", "test"}

    default = _audit(spaced, frame, info)["group_overlap"]
    new = _audit(spaced, frame, info, "new-groups")["group_overlap"]
    assert default.to_dict() == new.to_dict()  # new-groups is the default
    assert new.verdict == "FAIL"
    assert new.numbers["shared_groups"] == 6 and new.numbers["test_windows_in_train_groups"] == 1.0
    assert strategy in new.explanation
    assert "the score does not say how the model does on new groups" in new.explanation
    assert "`--deployment seen-groups`" in new.explanation

    seen = _audit(spaced, frame, info, "seen-groups")
    assert seen["group_overlap"].verdict == "PASS", seen["group_overlap"].explanation
    assert seen["group_overlap"].numbers == new.numbers  # the same measurement, judged for another deployment
    assert "only groups seen in training" in seen["group_overlap"].explanation
    for name in SPLIT_CHECKS:
        assert seen[name].verdict != "FAIL", (name, seen[name].explanation)


def test_a_group_split_warns_for_seen_groups(build, spaced):
    subsets = build.group_subsets(spaced.index["group"], test_groups=["g0", "g1"])
    info = {"name": "g", "strategy": "group"}
    assert _audit(spaced, build.frame(subsets), info, checks=["group_overlap"])["group_overlap"].verdict == "PASS"
    seen = _audit(spaced, build.frame(subsets), info, "seen-groups", ["group_overlap"])["group_overlap"]
    assert seen.verdict == "WARN"
    assert "100.0% of the test windows come from groups the model was not trained on" in seen.explanation
    assert "`--deployment new-groups`" in seen.explanation


def test_a_random_window_split_still_fails_temporal_overlap_for_seen_groups(build):
    # windows 500 ms long every 250 ms: every window overlaps its neighbours, which land in other subsets
    index = build.grid_index(n_recordings=4, per_recording=80, spacing_ms=250.0, window_ms=500.0, prevalence=0.3)
    ds = build.dataset(index)
    frame = build.frame(build.random_subsets(len(index), seed=2))
    info = {"name": "random-s0", "strategy": "random", "gap_ms": None}
    new = _audit(ds, frame, info, "new-groups", ["group_overlap", "temporal_overlap"])
    seen = _audit(ds, frame, info, "seen-groups", ["group_overlap", "temporal_overlap"])
    assert new["group_overlap"].verdict == "FAIL" and seen["group_overlap"].verdict == "PASS"
    assert seen["temporal_overlap"].verdict == "FAIL"
    assert seen["temporal_overlap"].to_dict() == new["temporal_overlap"].to_dict()
    assert seen["temporal_overlap"].numbers["overlapping"] > 0


def test_placement_shortcuts_still_fail_for_seen_groups(build):
    index = trap_index()
    ds = build.dataset(index)
    frame = build.frame(later_in_time(index))
    info = {"name": "time-s0", "strategy": "time"}
    new = _audit(ds, frame, info, "new-groups", ["placement_shortcut"])["placement_shortcut"]
    seen = _audit(ds, frame, info, "seen-groups", ["placement_shortcut"])["placement_shortcut"]
    assert seen.verdict == new.verdict == "FAIL"
    assert seen.to_dict() == new.to_dict()


def confounded(build, n_groups=8, per_group=120, seed=0):
    """Positive rate 2%..70% by group, each group's windows offset by its own "camera"."""
    prevalence = np.linspace(0.02, 0.7, n_groups)
    index = build.grid_index(n_recordings=n_groups, per_recording=per_group, prevalence=prevalence, seed=seed)
    rng = np.random.default_rng(seed)
    codes = index["recording"].str[3:].astype(int).to_numpy()
    windows = (rng.standard_normal((len(index), 2, 40)) + rng.normal(0, 3, (n_groups, 2, 1))[codes]).astype(np.float32)
    return build.dataset(index, windows)


def test_group_confound_on_shared_groups_warns_for_seen_groups_instead_of_failing(build):
    ds = confounded(build)
    frame = build.frame(later_in_time(ds.index))
    info = {"name": "time-s0", "strategy": "time"}
    new = _audit(ds, frame, info, "new-groups", ["group_confound"])["group_confound"]
    seen = _audit(ds, frame, info, "seen-groups", ["group_confound"])["group_confound"]
    assert new.verdict == "FAIL"
    assert "`--deployment seen-groups`" in new.explanation
    # the group's rate alone predicts the label: not a leak for a personalised model, but the pooled score misleads
    assert seen.numbers == new.numbers
    assert seen.verdict == "WARN", seen.explanation
    assert "personalisation, not a leak" in seen.explanation and "per_group_spread" in seen.explanation


def test_group_confound_passes_for_seen_groups_when_the_features_only_identify_the_group(build):
    index = build.grid_index(n_recordings=6, per_recording=100, prevalence=0.3, seed=4)
    rng = np.random.default_rng(4)
    codes = index["recording"].str[3:].astype(int).to_numpy()
    windows = (rng.standard_normal((len(index), 2, 40)) + rng.normal(0, 4, (6, 2, 1))[codes]).astype(np.float32)
    ds = build.dataset(index, windows)
    frame = build.frame(later_in_time(index))
    new = _audit(ds, frame, {"strategy": "time"}, "new-groups", ["group_confound"])["group_confound"]
    seen = _audit(ds, frame, {"strategy": "time"}, "seen-groups", ["group_confound"])["group_confound"]
    assert new.verdict == "FAIL" and new.numbers["identification_lift"] >= 0.5
    assert seen.verdict == "PASS", seen.explanation


@pytest.mark.parametrize("bad", ["seen", "New-Groups", None, 1])
def test_an_unknown_deployment_names_the_parameter(build, spaced, bad):
    frame = build.frame(later_in_time(spaced.index))
    with pytest.raises(InputError) as caught:
        AuditContext(spaced, frame, {}, deployment=bad)
    assert caught.value.parameter == "deployment"
    assert str(caught.value) == f"deployment must be one of new-groups, seen-groups; got {bad!r}"


def test_the_report_records_and_states_its_deployment(build, spaced, tmp_path):
    frame = build.frame(later_in_time(spaced.index))
    for deployment, words in zip(DEPLOYMENTS, ("on new groups (", "on groups already seen (")):
        report = _audit(spaced, frame, {"name": "t", "strategy": "time"}, deployment, ["group_overlap"])
        json_path, md_path = write_audit(report, tmp_path / f"{deployment}.json", tmp_path / f"{deployment}.md")
        data = json.loads(json_path.read_text())
        assert list(data) == ["split", "deployment", "checks", "verdict"] and data["deployment"] == deployment
        lines = md_path.read_text().splitlines()
        assert lines[0] == "# Audit of split `t`" and lines[2].startswith(f"Judged for deployment {words}")
        assert sum(line.startswith("Judged for deployment") for line in lines) == 1


def test_audit_split_names_the_report_after_the_saved_split(build, spaced, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hardneg.split import save_split

    directory = tmp_path / "ds"
    directory.mkdir()
    pq.write_table(pa.Table.from_pandas(spaced.index, preserve_index=False), directory / "index.parquet")
    np.save(directory / "windows.npy", spaced.windows)
    (directory / "meta.json").write_text(json.dumps(spaced.meta))
    frame = build.frame(later_in_time(spaced.index))
    save_split(directory, "later", frame, {"name": "time", "strategy": "time", "gap_ms": None})
    # a card copied from another split still names that split: the report must carry the name it is saved under
    card = directory / "splits" / "later.json"
    card.write_text(json.dumps({**json.loads(card.read_text()), "name": "other"}))
    report = audit_split(directory, "later", deployment="seen-groups", checks=["group_overlap"])
    assert report.split == "later" and report.deployment == "seen-groups"
    data = json.loads(audit_paths(directory, "later")[0].read_text())
    assert data["split"] == "later" and data["deployment"] == "seen-groups"
    assert data["checks"][0]["verdict"] == "PASS"
