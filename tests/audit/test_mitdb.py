"""End to end on MIT-BIH V beats: a random window split FAILs group confound, the DS1/DS2 split PASSes overlap."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hardneg import InputOptions, SamplingConfig, build_dataset
from hardneg.audit import AuditContext, run_audit, write_audit
from hardneg.features import compute_features
from hardneg.split import make_split

MITDB = Path(__file__).resolve().parents[3] / "shared" / "data" / "mitdb"
# four records of DS1 and four of DS2 (the inter-patient split of de Chazal et al.), with and without V beats
DS1_RECORDS = ["101", "106", "119", "208"]
DS2_RECORDS = ["100", "103", "105", "200"]

pytestmark = pytest.mark.skipif(not (MITDB / "100.hea").is_file(), reason=f"MIT-BIH not found at {MITDB}")


@pytest.fixture(scope="module")
def mitdb(tmp_path_factory):
    paths = [MITDB / f"{record}.hea" for record in DS1_RECORDS + DS2_RECORDS]
    return build_dataset(
        paths,
        tmp_path_factory.mktemp("mitdb") / "v_beats",
        inputs=InputOptions(event_symbols=("V",), allow_mixed_channels=True),  # V1, V2 and V5 second leads
        config=SamplingConfig(align="center", window_ms=600),
    )


def test_random_window_split_fails_group_confound(mitdb, tmp_path):
    frame, info = make_split(mitdb, "random", seed=0)
    report = run_audit(AuditContext(mitdb, frame, info))
    confound = report["group_confound"]
    assert confound.verdict == "FAIL", confound.explanation
    assert confound.numbers["test_windows_in_train_groups"] == 1.0
    assert report["group_overlap"].verdict == "FAIL"
    assert report["temporal_overlap"].verdict == "FAIL"  # neighbouring beats' windows overlap across subsets
    json_path, _ = write_audit(report, tmp_path / "random.audit.json", tmp_path / "random.audit.md")
    assert '"verdict": "FAIL"' in json_path.read_text()


def test_hand_made_random_split_fails_too(mitdb):
    n = len(mitdb.index)
    subsets = np.where(np.random.default_rng(1).random(n) < 0.25, "test", "train")
    frame = pd.DataFrame({"fold": 0, "window_id": np.arange(n), "subset": subsets, "copies": 1})
    result = run_audit(AuditContext(mitdb, frame, {"name": "by-hand"}), ["group_confound"])["group_confound"]
    assert result.verdict == "FAIL"


def test_inter_patient_split_passes_group_overlap(mitdb):
    frame, info = make_split(mitdb, "group", test_groups=DS2_RECORDS, val_size=0.25, seed=0)
    report = run_audit(AuditContext(mitdb, frame, info))
    assert report["group_overlap"].verdict == "PASS", report["group_overlap"].explanation
    assert report["temporal_overlap"].verdict == "PASS"
    assert report["near_duplicates"].verdict == "PASS"
    # the label still depends on the patient: not hidden, but not a FAIL with disjoint groups
    assert report["group_confound"].verdict in ("PASS", "WARN")
    assert report["group_confound"].numbers["test_windows_in_train_groups"] == 0.0


def test_model_checks_on_inter_patient_predictions(mitdb):
    frame, info = make_split(mitdb, "group", test_groups=DS2_RECORDS, val_size=0.25, seed=0)
    features, _ = compute_features(mitdb.windows, "summary", sample_rate_hz=mitdb.meta["sample_rate_hz"])
    labels = mitdb.labels
    train = frame.loc[frame["subset"] == "train", "window_id"].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced"))
    model.fit(features[train], labels[train])
    scored = frame.loc[frame["subset"] != "train", "window_id"].to_numpy()
    predictions = pd.DataFrame({"window_id": scored, "score": model.predict_proba(features[scored])[:, 1]})
    report = run_audit(AuditContext(mitdb, frame, info, predictions=predictions))
    test = frame.loc[frame["subset"] == "test", "window_id"].to_numpy()
    expected = roc_auc_score(labels[test], model.predict_proba(features[test])[:, 1])
    assert report["roc_below_chance"].numbers["roc_auc"] == pytest.approx(expected)
    for name in ("prediction_clustering", "roc_below_chance", "calibration", "per_group_spread", "val_test_gap"):
        assert report[name].verdict != "SKIP", (name, report[name].explanation)
    # class_weight="balanced" moves scores up: the calibration check notices
    assert report["calibration"].numbers["mean_score"] > report["calibration"].numbers["positive_rate"]
