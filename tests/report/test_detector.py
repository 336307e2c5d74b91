"""detector_tables and detector_sections: every number against a plain pandas / scikit-learn loop."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

from hardneg.errors import InputError
from hardneg.report import Document
from hardneg.report._detector import detector_tables, grouped_average_precision
from hardneg.report._detector_sections import detector_sections
from hardneg.stats import GroupResampler

N_WINDOWS, N_GROUPS, N_SEEDS = 400, 10, 3
KINDS = np.array(["pos", "near", "far", "far", "labelled"])
COMBOS = {"group": [("et", "rich"), ("lr", "summary")], "random": [("et", "rich")]}


def make_table(fresh: bool, seed: int = 0) -> pd.DataFrame:
    """Three seeds, two folds; ``fresh``: each seed tests 60% of the windows (a new split per seed)."""
    gen = np.random.default_rng(seed)
    kind = KINDS[gen.integers(0, len(KINDS), N_WINDOWS)]
    label = (kind == "pos").astype(int)
    label[(kind == "labelled") & (gen.random(N_WINDOWS) < 0.3)] = 1  # a kind that holds both classes
    groups = np.array([f"g{i}" for i in gen.integers(0, N_GROUPS, N_WINDOWS)])
    shift = {"pos": 0.0, "near": 0.35, "far": 0.6, "labelled": 0.45}
    parts = []
    for split, pairs in COMBOS.items():
        for model, features in pairs:
            for s in range(N_SEEDS):
                tested = gen.random(N_WINDOWS) < 0.6 if fresh else np.ones(N_WINDOWS, dtype=bool)
                ids = np.flatnonzero(tested)
                base = np.array([shift[k] for k in kind[ids]])
                base = np.where(label[ids] == 1, 0.0, base)
                # one decimal: plenty of ties, as a tree ensemble gives
                score = np.round(np.clip(0.75 - base + 0.35 * gen.standard_normal(len(ids)), 0, 1), 1)
                fold = ids % 2
                threshold = np.where(fold == 0, 0.5, 0.4) + 0.1 * s / N_SEEDS
                parts.append(
                    pd.DataFrame(
                        {
                            "model": model,
                            "features": features,
                            "split": split,
                            "seed": s,
                            "fold": fold,
                            "subset": "test",
                            "window_id": ids,
                            "label": label[ids],
                            "group": groups[ids],
                            "kind": kind[ids],
                            "score": score,
                            "threshold": threshold,
                        }
                    )
                )
    # a validation row must not count
    extra = parts[0].iloc[:5].assign(subset="val", score=1.0)
    return pd.concat([*parts, extra], ignore_index=True).sample(frac=1.0, random_state=1)


@pytest.fixture(scope="module", params=[False, True], ids=["same-windows", "fresh-split-per-seed"])
def case(request):
    table = make_table(request.param)
    return table, detector_tables(table, COMBOS, n_resamples=300, seed=3, window_ms=5000)


def combos_of(table):
    test = table[table["subset"] == "test"]
    for split, pairs in COMBOS.items():
        for model, features in pairs:
            here = test[(test["split"] == split) & (test["model"] == model) & (test["features"] == features)]
            yield (split, model, features), here


def seed_mean(values):
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def test_per_kind_matches_a_plain_loop(case):
    table, tables = case
    checked = 0
    for key, here in combos_of(table):
        for kind in ("near", "far", "labelled"):
            shares, aucs, counts = [], [], []
            for _, rows in here.groupby("seed"):
                negative = (rows["label"] == 0) & (rows["kind"] == kind)
                counts.append(int(negative.sum()))
                keep = (rows["label"] == 1) | negative
                if negative.any():
                    shares.append(float((rows.loc[negative, "score"] >= rows.loc[negative, "threshold"]).mean()))
                    aucs.append(roc_auc_score(rows.loc[keep, "label"], rows.loc[keep, "score"]))
            found = tables.per_kind.set_index(["split", "model", "features", "kind"]).loc[(*key, kind)]
            assert found["share_above"] == pytest.approx(np.mean(shares), abs=1e-12)
            assert found["roc_auc"] == pytest.approx(np.mean(aucs), abs=1e-12)
            assert found["n_windows"] == pytest.approx(np.mean(counts))
            assert found["share_low"] <= found["share_above"] <= found["share_high"]
            assert found["auc_low"] <= found["roc_auc"] <= found["auc_high"]
            checked += 1
    assert checked == 9
    # kinds in their usual order, then any other; "pos" is never a kind of negative
    assert list(tables.per_kind.loc[tables.per_kind["model"] == "lr", "kind"]) == ["near", "far", "labelled"]


def test_per_kind_intervals_are_group_resampler_intervals(case):
    table, tables = case
    test = table[table["subset"] == "test"]
    resampler = GroupResampler(test["group"].astype(str).unique(), n_resamples=300, seed=3)
    key, here = next(iter(combos_of(table)))
    scores = here.pivot(index="seed", columns="window_id", values="score")
    limits = here.pivot(index="seed", columns="window_id", values="threshold")
    windows = here.drop_duplicates("window_id").set_index("window_id").loc[scores.columns]
    keep = ((windows["label"] == 1) | (windows["kind"] == "near")).to_numpy()
    y, groups = windows["label"].to_numpy()[keep], windows["group"].to_numpy()[keep]
    share = resampler.interval(
        resampler.evaluate(y, scores.to_numpy()[:, keep], groups, metric="fpr", thresholds=limits.to_numpy()[:, keep])
    )
    auc = resampler.interval(resampler.evaluate(y, scores.to_numpy()[:, keep], groups, metric="roc_auc"))
    found = tables.per_kind.set_index(["split", "model", "features", "kind"]).loc[(*key, "near")]
    assert (found["share_low"], found["share_high"]) == (share.low, share.high)
    assert (found["auc_low"], found["auc_high"]) == (auc.low, auc.high)
    assert share.low < share.high
    assert tables.covers == f"new groups drawn like the {N_GROUPS} test groups, and seeds"


def test_confusion_matches_sklearn_per_seed(case):
    table, tables = case
    for key, here in combos_of(table):
        counts, precision, recall, per_hour = [], [], [], []
        for _, rows in here.groupby("seed"):
            predicted = (rows["score"] >= rows["threshold"]).astype(int)
            tn, fp, fn, tp = confusion_matrix(rows["label"], predicted, labels=[0, 1]).ravel()
            counts.append([tp, fp, fn, tn])
            precision.append(tp / (tp + fp) if tp + fp else math.nan)
            recall.append(tp / (tp + fn))
            per_hour.append(fp / ((tn + fp) * 5000 / 3.6e6))
        found = tables.confusion.set_index(["split", "model", "features"]).loc[key]
        assert found[["tp", "fp", "fn", "tn"]].to_numpy(dtype=float) == pytest.approx(np.mean(counts, axis=0))
        assert found["precision"] == pytest.approx(seed_mean(precision))
        assert found["recall"] == pytest.approx(np.mean(recall))
        assert found["fp_per_hour"] == pytest.approx(np.mean(per_hour))
        assert found["n_seeds"] == N_SEEDS


def test_per_group_matches_sklearn_per_group(case):
    table, tables = case
    for key, here in combos_of(table):
        found = tables.per_group.set_index(["split", "model", "features", "group"]).loc[key]
        assert len(found) == here["group"].nunique()
        for group, rows in here.groupby("group"):
            ap, recall, fpr, sizes = [], [], [], []
            for _, seed_rows in rows.groupby("seed"):
                y, score = seed_rows["label"].to_numpy(), seed_rows["score"].to_numpy()
                above = score >= seed_rows["threshold"].to_numpy()
                sizes.append(len(y))
                ap.append(average_precision_score(y, score) if 0 < y.sum() < len(y) else math.nan)
                recall.append(above[y == 1].mean() if y.any() else math.nan)
                fpr.append(above[y == 0].mean() if (y == 0).any() else math.nan)
            row = found.loc[group]
            assert row["average_precision"] == pytest.approx(seed_mean(ap), nan_ok=True)
            assert row["recall"] == pytest.approx(seed_mean(recall), nan_ok=True)
            assert row["fpr"] == pytest.approx(seed_mean(fpr), nan_ok=True)
            assert row["n_windows"] == pytest.approx(np.mean(sizes))
            assert row["n_seeds"] == rows["seed"].nunique()
        # worst first: AP ascending
        ap = found["average_precision"].dropna().to_numpy()
        assert (np.diff(ap) >= 0).all()


def test_grouped_average_precision_with_ties_and_one_class():
    gen = np.random.default_rng(5)
    keys = gen.integers(0, 30, 2000)
    y = (gen.random(2000) < 0.3).astype(int)
    y[keys == 7] = 0  # one class only
    score = np.round(gen.random(2000) + 0.3 * y, 1)
    found = grouped_average_precision(keys, y, score, 31)
    for k in range(31):
        here = keys == k
        if k in (7, 30):
            assert math.isnan(found[k])
        else:
            assert found[k] == pytest.approx(average_precision_score(y[here], score[here]), abs=1e-12)


def test_low_fpr_matches_a_threshold_scan(case):
    table, tables = case
    for key, here in combos_of(table):
        found = tables.low_fpr.set_index(["split", "model", "features", "target_fpr"])
        for target in (0.01, 0.001):
            best, negatives = [], []
            for _, rows in here.groupby("seed"):
                y, score = rows["label"].to_numpy(), rows["score"].to_numpy()
                negatives.append((y == 0).sum())
                recall = 0.0
                for t in [*np.unique(score), np.inf]:
                    if (score[y == 0] >= t).mean() <= target:
                        recall = max(recall, (score[y == 1] >= t).mean())
                best.append(recall)
            row = found.loc[(*key, target)]
            assert row["recall"] == pytest.approx(np.mean(best))
            assert row["n_negatives"] == pytest.approx(np.mean(negatives))
            assert row["too_few_negatives"] == (np.mean(negatives) * target < 1)
    assert tables.low_fpr["too_few_negatives"].tolist().count(True) == 3  # 0.1% of ~200 negatives
    assert not tables.low_fpr.loc[tables.low_fpr["target_fpr"] == 0.01, "too_few_negatives"].any()


def small_table(scores, kinds, threshold=0.5):
    n = len(scores)
    return pd.DataFrame(
        {
            "model": "et",
            "features": "rich",
            "split": "group",
            "seed": 0,
            "fold": 0,
            "subset": "test",
            "window_id": np.arange(n),
            "label": [int(k == "pos") for k in kinds],
            "group": [f"p{i % 5}" for i in range(n)],
            "kind": kinds,
            "score": scores,
            "threshold": threshold,
        }
    )


def test_a_score_equal_to_the_threshold_counts_as_above():
    table = small_table([0.9, 0.5, 0.5, 0.49, 0.1, 0.8], ["pos", "pos", "near", "near", "near", "pos"])
    tables = detector_tables(table, {"group": [("et", "rich")]}, n_resamples=50)
    assert tables.per_kind.iloc[0]["share_above"] == pytest.approx(1 / 3)
    row = tables.confusion.iloc[0]
    assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (3, 1, 0, 2)
    assert math.isnan(row["fp_per_hour"])  # no window length


def test_without_thresholds_or_kinds():
    table = make_table(False)
    old = table.assign(threshold=np.nan)
    tables = detector_tables(old, COMBOS, n_resamples=50)
    assert tables.per_kind["share_above"].isna().all() and tables.per_kind["roc_auc"].notna().all()
    assert tables.confusion["tp"].isna().all() and tables.per_group["recall"].isna().all()
    assert tables.per_group["average_precision"].notna().any() and tables.low_fpr["recall"].notna().all()
    oldest = table.drop(columns=["threshold", "kind"])
    tables = detector_tables(oldest, COMBOS, n_resamples=50)
    assert tables.per_kind.empty and tables.confusion["tp"].isna().all()


def test_deterministic_and_row_order_free():
    table = make_table(True)
    a = detector_tables(table, COMBOS, n_resamples=100)
    b = detector_tables(table.sample(frac=1.0, random_state=9), COMBOS, n_resamples=100)
    for name in ("per_kind", "confusion", "per_group", "low_fpr"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_bad_input():
    table = make_table(False)
    with pytest.raises(InputError, match="window_ms"):
        detector_tables(table, COMBOS, window_ms=0)
    with pytest.raises(InputError, match="subset 'holdout'"):
        detector_tables(table, COMBOS, subset="holdout")
    # a window scored in two folds of one seed (repeated splits) counts once, with the mean of its scores
    twice = pd.concat([table, table.iloc[[0]].assign(score=1.0 - table["score"].iloc[0])])
    once = table.copy()
    once.loc[once.index[0], "score"] = 0.5
    for name in ("confusion", "per_group", "low_fpr"):
        pd.testing.assert_frame_equal(getattr(detector_tables(twice, COMBOS, n_resamples=20), name),
                                      getattr(detector_tables(once, COMBOS, n_resamples=20), name))
    # a combination not in the table is skipped
    assert detector_tables(table, {"group": [("nope", "rich")]}).confusion.empty


def test_sections_render():
    kinds = ["pos"] * 8 + ["near"] * 8 + ["far"] * 4
    scores = [0.9] * 8 + [0.7] + [0.2] * 7 + [0.1] * 4
    tables = detector_tables(small_table(scores, kinds), {"group": [("et", "rich")]}, n_resamples=50, window_ms=1000)
    doc = Document("Report")
    detector_sections(doc, tables, splits=["group"], trust_marks={"group": " ⚠"}, best={"group": ("et", "rich")})
    text = doc.markdown()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Errors by kind of negative",
        "## At the chosen threshold",
        "## Per group",
        "## Recall at low false-positive rates",
    ]
    assert "12.5%" in text  # one of eight near windows above the threshold
    assert "| positive windows | 8 | 0 |" in text and "| negative windows | 1 | 11 |" in text
    assert "`group` ⚠" in text and "(fewer than 1,000 negatives)" in text
    assert "Worst groups on `group` ⚠: `p" in text
    assert not re.search(r"\bthe seed\b", text.lower())
    assert "<h2" in doc.html()


def test_low_fpr_reaches_exactly_the_target_rate():
    # 100 negatives: one scores 0.9, above 7 of the 10 positives; FPR 1% is exactly that one negative
    scores = [0.95] * 3 + [0.8] * 7 + [0.9] + list(np.linspace(0.0, 0.5, 99))
    table = small_table(scores, ["pos"] * 10 + ["near"] * 100)
    low = detector_tables(table, {"group": [("et", "rich")]}, n_resamples=20).low_fpr.set_index("target_fpr")
    assert low.loc[0.01, "recall"] == 1.0 and low.loc[0.001, "recall"] == pytest.approx(0.3)
    assert low.loc[0.001, "too_few_negatives"] and not low.loc[0.01, "too_few_negatives"]
