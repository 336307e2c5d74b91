"""class_balance: windows and positives per subset, single-class groups, and whether test is big enough to tell."""

from __future__ import annotations

import math

from scipy import stats

from hardneg._schema import SUBSETS
from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import fold_label, num, pct, preview
from hardneg.stats import wilson_interval

NAME = "class_balance"

#: Fewer test positives than this and recall moves in steps of 10 points or more: one missed event changes the
#: verdict on a model. FAIL.
MIN_TEST_POSITIVES = 10
#: Widest acceptable confidence interval on a recall measured on the test positives (at its worst, recall 0.5):
#: wider than 0.3 and "recall 60%" is compatible with anything from about 45% to 75%. At 95% that takes about 40
#: positives. WARN.
MAX_RECALL_INTERVAL = 0.3
#: A validation subset with fewer positives gives a decision threshold (chosen on validation) that is mostly noise.
MIN_VAL_POSITIVES = 10
#: Positive rate of test over train (or the reverse) beyond which precision-type metrics are not comparable
#: between the two: precision scales with the base rate.
MAX_RATE_RATIO = 2.0
#: Share of windows in groups holding one class only from which the group alone gives away many labels.
MAX_SINGLE_CLASS_SHARE = 0.25


def recall_interval_width(n_positives: int, confidence: float) -> float:
    """Width of the Wilson interval of a recall of 0.5 (the widest) measured on ``n_positives`` events."""
    if n_positives == 0:
        return 1.0
    low, high = wilson_interval(math.ceil(n_positives / 2), n_positives, confidence)
    return high - low


@register_check(NAME)
def class_balance(context) -> CheckResult:
    """Windows and positive rate per subset, groups with a single class, and whether the test set is big enough."""
    frame = context.assignments
    per_fold, problems, warnings = [], [], []
    fold_test_pos, min_val_pos, thin_folds = [], None, []
    for fold in context.folds:
        rows = frame[frame["fold"].to_numpy() == fold]
        entry = {"fold": fold}
        for subset in SUBSETS:
            part = rows[rows["subset"] == subset]
            if len(part) == 0:
                continue
            positives = int(part["label"].sum())
            entry[subset] = {"windows": len(part), "positives": positives, "positive_rate": positives / len(part)}
            if subset == "train" and (part["copies"] > 1).any():
                weighted = float((part["label"] * part["copies"]).sum() / part["copies"].sum())
                entry[subset]["positive_rate_with_copies"] = weighted
        if "test" not in entry:
            problems.append(f"{fold_label(context, fold)} has no test windows")
        else:
            n_pos, n_neg = entry["test"]["positives"], entry["test"]["windows"] - entry["test"]["positives"]
            fold_test_pos.append(n_pos)
            if min(n_pos, n_neg) < MIN_TEST_POSITIVES:
                thin_folds.append((fold, n_pos, n_neg))
        if "val" in entry:
            n_val = entry["val"]["positives"]
            min_val_pos = n_val if min_val_pos is None else min(min_val_pos, n_val)
        per_fold.append(entry)

    # With several folds the score is pooled (or averaged) over the folds, so the pooled count decides whether it
    # can be told from luck; folds too thin to score alone are a warning.
    holdout = len(context.folds) == 1
    test_positives = sum(fold_test_pos) if fold_test_pos else None
    test_rows = frame[frame["subset"] == "test"]
    test_negatives = int(len(test_rows) - test_rows["label"].sum())
    if test_positives is not None and (test_positives < MIN_TEST_POSITIVES or test_negatives < MIN_TEST_POSITIVES):
        scope = "the test set holds" if holdout else "the test sets of all folds together hold"
        problems.append(
            f"{scope} only {test_positives} positives and {test_negatives} negatives (fewer than "
            f"{MIN_TEST_POSITIVES} of a class), so recall moves by {pct(1 / max(test_positives, 1), 0)} per event"
        )
    elif thin_folds and not holdout:
        empty = sum(1 for _, n_pos, n_neg in thin_folds if min(n_pos, n_neg) == 0)
        warnings.append(
            f"{len(thin_folds)} of {len(context.folds)} folds hold fewer than {MIN_TEST_POSITIVES} test windows of a "
            f"class ({empty} none at all), so their per-fold AUC and AP are undefined or noisy; pool out-of-fold "
            "predictions or use fewer folds"
        )
    copies_outside_train = int(((frame["copies"] > 1) & (frame["subset"] != "train")).sum())
    if copies_outside_train:
        problems.append(
            f"{copies_outside_train} validation/test rows carry copies > 1: oversampling must touch training only"
        )
    # groups holding one class only, over the windows the split uses
    used = context.index.iloc[context.used_window_ids]
    by_group = used.groupby(used["group"].astype(str))["label"].agg(["min", "max", "size"])
    single = by_group[by_group["min"] == by_group["max"]]
    single_share = float(single["size"].sum() / len(used))
    width = recall_interval_width(test_positives or 0, context.confidence)
    train_rows = frame[frame["subset"] == "train"]
    rates = [part["label"].mean() if len(part) else float("nan") for part in (train_rows, test_rows)]
    ratio = rates[1] / rates[0] if rates[0] > 0 and rates[1] > 0 else float("nan")
    ratio = max(ratio, 1.0 / ratio) if not math.isnan(ratio) else ratio

    if not problems and width > MAX_RECALL_INTERVAL:
        warnings.append(
            f"with {test_positives} test positives a {pct(context.confidence, 0)} interval on recall is up to "
            f"{num(width)} wide (limit {MAX_RECALL_INTERVAL}); about {_positives_for_width(context.confidence)} "
            "positives would be needed"
        )
    if min_val_pos is not None and min_val_pos < MIN_VAL_POSITIVES:
        warnings.append(f"validation holds only {min_val_pos} positives, too few to choose a decision threshold on")
    if not math.isnan(ratio) and ratio > MAX_RATE_RATIO:
        warnings.append(
            f"the positive rate differs {num(ratio, 1)}-fold between train and test, so precision and average "
            "precision are not comparable between them"
        )
    if single_share >= MAX_SINGLE_CLASS_SHARE:
        warnings.append(
            f"{len(single)} groups holding {pct(single_share)} of the windows have one class only, so their group "
            "gives the label away (see group_confound)"
        )

    numbers = {
        "test_positives": test_positives,
        "recall_interval_width": width,
        "min_val_positives": min_val_pos,
        "positive_rate_ratio": ratio,
        "min_fold_test_positives": min(fold_test_pos) if fold_test_pos else None,
        "thin_folds": len(thin_folds),
        "single_class_groups": len(single),
        "single_class_group_share": single_share,
        "single_class_group_examples": preview(single.index.tolist()),
        "copies_outside_train": copies_outside_train,
        "confidence": context.confidence,
        "per_fold": per_fold,
    }
    first = per_fold[0]
    counts = "; ".join(
        f"{subset} {first[subset]['windows']} windows, {first[subset]['positives']} positive "
        f"({pct(first[subset]['positive_rate'])})"
        for subset in SUBSETS
        if subset in first
    )
    summary = f"In {fold_label(context, first['fold'])}: {counts}."
    if problems:
        return CheckResult(
            NAME,
            FAIL,
            numbers,
            f"{summary} Problems: {'; '.join(problems)}. A score measured this way cannot be told apart from luck; "
            "use a larger test set (`--test-size`), fewer folds, or collect more events"
            + ("" if not copies_outside_train else ", and oversample the training subset only")
            + ".",
        )
    if warnings:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            f"{summary} Worth knowing: {'; '.join(warnings)}. Report intervals with every score from this split.",
        )
    return CheckResult(
        NAME,
        PASS,
        numbers,
        f"{summary} The test set holds enough positives for a recall interval no wider than {num(width)} at "
        f"{pct(context.confidence, 0)} confidence, and the positive rates of the subsets are comparable.",
    )


def _positives_for_width(confidence: float) -> int:
    # Normal approximation at recall 0.5: width = 2 z sqrt(0.25 / n)  ->  n = (z / width)^2
    z = stats.norm.ppf(0.5 + confidence / 2)
    return math.ceil((z / MAX_RECALL_INTERVAL) ** 2)
