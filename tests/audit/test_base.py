"""AuditContext validation and views, CheckResult, verdict order, the registry."""

import json

import numpy as np
import pandas as pd
import pytest

from hardneg.audit import CHECKS, AuditContext, CheckResult, register_check, run_audit, worst_verdict
from hardneg.audit._base import jsonable
from hardneg.errors import InputError


def test_verdict_order_and_validation():
    assert worst_verdict(["PASS", "SKIP"]) == "PASS"
    assert worst_verdict(["PASS", "WARN", "SKIP"]) == "WARN"
    assert worst_verdict(["WARN", "FAIL", "PASS"]) == "FAIL"
    assert worst_verdict([]) == "SKIP"
    with pytest.raises(ValueError, match="verdict must be one of"):
        CheckResult("x", "OK", {}, "")


def test_jsonable_turns_numpy_and_nan_into_strict_json():
    value = jsonable({"a": np.float32(0.5), "b": np.int64(3), "c": float("nan"), "d": [np.bool_(True)], 1: None})
    assert value == {"a": 0.5, "b": 3, "c": None, "d": [True], "1": None}
    json.dumps(value, allow_nan=False)


def test_builtin_checks_are_registered_in_report_order():
    from hardneg.audit.checks import BUILTIN

    expected = [
        "group_overlap",
        "temporal_overlap",
        "near_duplicates",
        "group_confound",
        "placement_shortcut",
        "class_balance",
        "prediction_clustering",
        "roc_below_chance",
        "calibration",
        "per_group_spread",
        "val_test_gap",
    ]
    assert list(CHECKS)[: len(expected)] == expected == list(BUILTIN)
    assert {name for name in expected if CHECKS[name].needs_predictions} == {
        "prediction_clustering",
        "roc_below_chance",
        "calibration",
        "per_group_spread",
        "val_test_gap",
    }
    assert all(CHECKS[name].summary for name in expected)


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"window_id": [0, 1]}), "column 'subset' missing"),
        (pd.DataFrame({"window_id": [0, 99], "subset": ["train", "test"]}), "window_id must be integers in"),
        (pd.DataFrame({"window_id": [0, 1], "subset": ["train", "holdout"]}), "subset must be one of"),
        (pd.DataFrame({"window_id": [0, 0], "subset": ["train", "test"]}), "appears twice in fold 0"),
        (pd.DataFrame({"window_id": [0, 1], "subset": ["train", "test"], "copies": [0, 1]}), "copies must be"),
    ],
)
def test_bad_split_frames_are_input_errors(build, frame, message):
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=5))
    with pytest.raises(InputError, match=message):
        AuditContext(ds, frame, {})


@pytest.mark.parametrize(
    "predictions, message",
    [
        (pd.DataFrame({"window_id": [0]}), "column 'score' missing"),
        (pd.DataFrame({"window_id": [0], "score": [1.5]}), r"probability in \[0, 1\]"),
        (pd.DataFrame({"window_id": [0], "score": [np.nan]}), r"probability in \[0, 1\]"),
        (pd.DataFrame({"window_id": [7], "score": [0.5]}), "made on another dataset"),
        (pd.DataFrame({"window_id": [0, 0], "score": [0.5, 0.4]}), "scored twice"),
    ],
)
def test_bad_predictions_are_input_errors(build, predictions, message):
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=5))
    with pytest.raises(InputError, match=message):
        AuditContext(ds, build.frame(["train"] * 5), {}, predictions=predictions)


def test_bad_seed_and_confidence(build):
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=5))
    with pytest.raises(InputError, match="seed"):
        AuditContext(ds, build.frame(["train"] * 5), {}, seed=-1)
    with pytest.raises(InputError, match="confidence"):
        AuditContext(ds, build.frame(["train"] * 5), {}, confidence=1.0)


def test_frame_without_fold_and_copies_gets_defaults(build):
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=4))
    context = AuditContext(ds, pd.DataFrame({"window_id": [0, 1, 2], "subset": ["train", "val", "test"]}), {})
    assert context.folds == [0]
    assert context.split_frame["copies"].tolist() == [1, 1, 1]
    assert context.used_window_ids.tolist() == [0, 1, 2]
    assert context.assignments["group"].tolist() == ["g0"] * 3


def test_out_of_fold_predictions_take_the_held_out_subset(build):
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=4))
    frame = pd.concat(
        [build.frame(["test", "test", "train", "train"], fold=0), build.frame(["train", "val", "test", "test"], fold=1)]
    )
    predictions = build.predictions([0.1, 0.2, 0.3, 0.4])
    scored = AuditContext(ds, frame, {}, predictions=predictions).scored
    assert scored.sort_values("window_id")["subset"].tolist() == ["test", "test", "test", "test"]
    with_fold = build.predictions([0.1, 0.2], window_ids=[0, 1], fold=1)
    scored = AuditContext(ds, frame, {}, predictions=with_fold).scored
    assert scored["subset"].tolist() == ["train", "val"]


def test_features_are_computed_once(build, monkeypatch):
    import hardneg.features

    calls = []
    real = hardneg.features.compute_features

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(hardneg.features, "compute_features", counting)
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=4))
    context = AuditContext(ds, build.frame(["train"] * 4), {})
    first = context.features("summary")[0]
    assert context.features("summary")[0] is first
    assert calls == ["summary"]
    assert first.shape == (4, 10)


@pytest.fixture
def temporary_check():
    names = []

    def add(name, func, **kwargs):
        register_check(name, **kwargs)(func)
        names.append(name)

    yield add
    for name in names:
        CHECKS.pop(name, None)


def test_plugin_checks_run_like_builtin_ones(build, temporary_check):
    def my_check(context):
        """Counts the training windows."""
        n = int((context.split_frame["subset"] == "train").sum())
        return CheckResult("my_check", "WARN" if n < 5 else "PASS", {"train": n}, "Counted.")

    temporary_check("my_check", my_check)
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=4))
    report = run_audit(AuditContext(ds, build.frame(["train", "train", "test", "test"]), {}), ["my_check"])
    assert report["my_check"].numbers == {"train": 2}
    assert report.verdict == "WARN"
    with pytest.raises(ValueError, match="already registered"):
        register_check("my_check")(lambda context: None)


def test_exceptions_in_checks_are_not_swallowed(build, temporary_check):
    def broken(context):
        raise RuntimeError("bug in a check")

    temporary_check("broken_check", broken)
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=4))
    with pytest.raises(RuntimeError, match="bug in a check"):
        run_audit(AuditContext(ds, build.frame(["train", "train", "test", "test"]), {}), ["broken_check"])


def test_checks_must_return_their_own_result(build, temporary_check):
    temporary_check("wrong_return", lambda context: CheckResult("other", "PASS"))
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=4))
    with pytest.raises(TypeError, match="must return CheckResult"):
        run_audit(AuditContext(ds, build.frame(["train", "train", "test", "test"]), {}), ["wrong_return"])


def test_unknown_check_is_an_input_error(build):
    ds = build.dataset(build.grid_index(n_recordings=1, per_recording=4))
    with pytest.raises(InputError, match="unknown audit check 'nope'; use one of: group_overlap"):
        run_audit(AuditContext(ds, build.frame(["train"] * 4), {}), ["nope"])
