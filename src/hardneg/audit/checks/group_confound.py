"""group_confound: how much the group alone says about the label, and how easily the features reveal the group.

Two numbers, both measured on the windows the split uses:

* **group AUC**: every window is scored with the positive rate of its group
  computed on the other windows (5-fold cross-fitting, so a window never
  sees its own label), and that score's ROC AUC for the label is taken. It
  is the AUC a model would reach by knowing nothing but which group a window
  comes from.
* **group identification**: a quick extra-trees classifier on the summary
  features, cross-validated on a sample of windows, predicts the group; its
  accuracy is compared with chance (always guessing the largest group) as
  ``lift = (accuracy - chance) / (1 - chance)``, 0 for chance, 1 for perfect.

When the subsets share groups, a model can first recognise the group and
then answer with its rate: high values of either number mean the score is
inflated. With disjoint groups the model cannot use the group on test, but a
high group AUC still says the score depends on which groups landed in test.

The deployment the split is judged for (:class:`~hardneg.audit.AuditContext`
``deployment``) decides what shared groups mean:

* ``"new-groups"`` (the default): recognising a group the model will never
  meet again is a shortcut, so a strong confound on shared groups is a FAIL,
  whatever the strategy (a time-blocked or intra-group split included).
* ``"seen-groups"``: the deployed model does know each group (it is used on
  the groups it was trained on, personalised on their past), so recognising
  the group and learning its own events are what it is meant to do, and
  neither is a FAIL. What still misleads is the pooled score when the group
  alone predicts the label (group AUC from :data:`GROUP_AUC_FAIL`): it then
  credits the model for ranking groups by their positive rates, which
  per-subject monitoring never needs, so that is a WARN pointing to per-group
  metrics. With disjoint groups the deployment plays no part.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

from hardneg.audit._base import FAIL, PASS, SEEN_GROUPS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import num, pct, skip

NAME = "group_confound"

#: Group AUC from which the group alone is a strong predictor of the label: 0.75 is the usual "fair to good"
#: boundary for a diagnostic score, and a group-memorising model gets there without looking at the event.
GROUP_AUC_FAIL = 0.75
GROUP_AUC_WARN = 0.6
#: Identification lift (accuracy above chance, as a share of what is above chance) from which the features
#: "identify the group much better than chance": at 0.5 the model tells the group in most windows it is unsure of.
LIFT_FAIL = 0.5
LIFT_WARN = 0.25
#: Share of scored windows in groups also seen in training below which sharing is incidental (a group or two on a
#: large split): it can inflate the score by at most about that share, so it is a WARN, never a FAIL.
SHARED_MIN_SHARE = 0.05
#: Windows sampled for the identification classifier, and its size: enough for 50 groups with 60 windows each,
#: fast enough (~1 s) to run in every audit.
IDENTIFICATION_SAMPLE = 3000
#: Groups taking part in identification at most: beyond 50 the classifier's cost grows with the number of classes
#: while the answer (can the features tell groups apart?) does not change.
IDENTIFICATION_GROUPS = 50
N_TREES = 60
CV_FOLDS = 3
#: Pseudo-windows at the overall positive rate added to each group's rate, so a group seen through one or two
#: windows does not get a rate of exactly 0 or 1.
PRIOR_WINDOWS = 1.0


def cross_fitted_group_rate(groups: np.ndarray, labels: np.ndarray, seed: int, n_splits: int = 5) -> np.ndarray:
    """Each window's group positive rate computed on the other folds (smoothed towards the overall rate)."""
    codes, _ = _codes(groups)
    score = np.empty(len(labels))
    for fit, held in KFold(n_splits=min(n_splits, len(labels)), shuffle=True, random_state=seed).split(labels):
        score[held] = _group_rate(codes[fit], labels[fit], codes[held])
    return score


def _codes(groups: np.ndarray):
    codes, uniques = pd.factorize(np.asarray(groups))
    return codes, uniques


def _group_rate(fit_codes: np.ndarray, fit_labels: np.ndarray, codes: np.ndarray) -> np.ndarray:
    size = int(max(fit_codes.max(initial=-1), codes.max(initial=-1))) + 1
    prior = fit_labels.mean() if len(fit_labels) else 0.5
    count = np.bincount(fit_codes, minlength=size)
    positive = np.bincount(fit_codes, weights=fit_labels, minlength=size)
    return ((positive + PRIOR_WINDOWS * prior) / (count + PRIOR_WINDOWS))[codes]


def _auc(labels: np.ndarray, score: np.ndarray) -> float:
    if labels.min() == labels.max():
        return math.nan
    return float(roc_auc_score(labels, score))


def identification(features: np.ndarray, groups: np.ndarray, rng: np.random.Generator) -> dict:
    """Cross-validated accuracy of extra trees predicting the group from ``features``, and chance.

    At most :data:`IDENTIFICATION_GROUPS` groups (drawn at random) and
    :data:`IDENTIFICATION_SAMPLE` of their windows take part.
    """
    codes, _ = _codes(groups)
    present = np.unique(codes)
    if len(present) > IDENTIFICATION_GROUPS:
        chosen = rng.choice(present, IDENTIFICATION_GROUPS, replace=False)
        pool = np.flatnonzero(np.isin(codes, chosen))
    else:
        pool = np.arange(len(codes))
    rows = (
        pool if len(pool) <= IDENTIFICATION_SAMPLE else np.sort(rng.choice(pool, IDENTIFICATION_SAMPLE, replace=False))
    )
    y = codes[rows]
    keep = np.bincount(y)[y] >= CV_FOLDS  # a group needs a window in each fold to be learnt and tested
    x, y = features[rows][keep], y[keep]
    if len(np.unique(y)) < 2:
        return {"accuracy": math.nan, "chance": math.nan, "lift": math.nan, "windows": int(keep.sum()), "groups": 0}
    seed = int(rng.integers(2**31 - 1))
    model = ExtraTreesClassifier(n_estimators=N_TREES, max_features="sqrt", n_jobs=1, random_state=seed)
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    accuracy = float(cross_val_score(model, x, y, cv=folds, scoring="accuracy").mean())
    chance = float(np.bincount(y).max() / len(y))
    lift = (accuracy - chance) / (1.0 - chance) if chance < 1 else math.nan
    return {"accuracy": accuracy, "chance": chance, "lift": lift, "windows": len(y), "groups": len(np.unique(y))}


def _on_split_auc(context) -> tuple[float, float]:
    """Per fold, train group rates scored on the test windows (unseen groups get the train rate): mean AUC; and
    the largest share of test windows whose group is in training."""
    aucs, shared = [], 0.0
    for fold in context.folds:
        rows = context.fold_assignments(fold)
        train = rows[rows["subset"] == "train"]
        scored = rows[rows["subset"] == "test"]
        if len(scored) == 0:
            scored = rows[rows["subset"] == "val"]
        if len(train) == 0 or len(scored) == 0:
            continue
        fit_codes, test_codes = train["group_code"].to_numpy(), scored["group_code"].to_numpy()
        seen = np.bincount(fit_codes, minlength=int(context.group_codes.max()) + 1)[test_codes] > 0
        shared = max(shared, float(seen.mean()))
        fit_labels = train["label"].to_numpy(dtype=np.float64)
        rate = _group_rate(fit_codes, fit_labels, test_codes)
        rate[~seen] = fit_labels.mean()
        aucs.append(_auc(scored["label"].to_numpy(), rate))
    finite = [a for a in aucs if not math.isnan(a)]
    return (float(np.mean(finite)) if finite else math.nan), shared


@register_check(NAME)
def group_confound(context) -> CheckResult:
    """How well the group alone predicts the label, and how well the features identify the group."""
    ids = context.used_window_ids
    groups = context.group_codes[ids]
    labels = context.index["label"].to_numpy()[ids].astype(np.float64)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        return skip(NAME, "All windows belong to one group, so the group cannot confound anything.", {"n_groups": 1})
    if labels.min() == labels.max():
        return skip(NAME, "The split's windows hold one class only, so no AUC can be measured.")

    group_auc = _auc(labels, cross_fitted_group_rate(groups, labels, context.random_state(NAME + "/rate")))
    on_split_auc, shared_share = _on_split_auc(context)
    features, _ = context.features("summary")
    ident = identification(features[ids], groups, context.rng(NAME + "/identify"))
    lift = ident["lift"]
    numbers = {
        "group_auc": group_auc,
        "identification_accuracy": ident["accuracy"],
        "identification_chance": ident["chance"],
        "identification_lift": lift,
        "test_windows_in_train_groups": shared_share,
        "group_auc_on_split": on_split_auc,
        "n_groups": n_groups,
        "identification_windows": ident["windows"],
        "identification_groups": ident["groups"],
    }
    strong = group_auc >= GROUP_AUC_FAIL or (not math.isnan(lift) and lift >= LIFT_FAIL)
    moderate = group_auc >= GROUP_AUC_WARN or (not math.isnan(lift) and lift >= LIFT_WARN)
    measured = (
        f"Knowing only a window's group (its positive rate, cross-fitted) predicts the label with ROC AUC "
        f"{num(group_auc)}, and a quick classifier on the summary features names the group in "
        f"{pct(ident['accuracy'])} of windows against {pct(ident['chance'])} by chance (lift {num(lift)})."
    )
    if shared_share > 0:
        shared_text = f" {pct(shared_share)} of the test windows come from groups also in training"
        if context.strategy in ("intra-group", "time"):
            shared_text += f" (by design of this {context.strategy} split)"
        if context.deployment == SEEN_GROUPS:
            return _judged_for_seen_groups(numbers, measured + shared_text, group_auc, lift, on_split_auc)
        if strong and shared_share >= SHARED_MIN_SHARE:
            reasons = []
            if group_auc >= GROUP_AUC_FAIL:
                reasons.append(
                    "a model can recognise the group and answer with its rate (per-group training rates alone score "
                    f"ROC AUC {num(on_split_auc)} on this split's test windows)"
                )
            if not math.isnan(lift) and lift >= LIFT_FAIL:
                reasons.append(
                    "the features tell the groups apart, so a model can learn each group's own events and non-events "
                    "(its patient's beats, its camera) and is then tested on groups it has learnt"
                )
            return CheckResult(
                NAME,
                FAIL,
                numbers,
                measured + shared_text + ", so " + "; and ".join(reasons) + ". The score is inflated and says "
                "little about new subjects or sessions. Use a group split (`--strategy group`, `stratified-group`, "
                "`logo` or `--test-groups`); if the model will be used on the groups it was trained on "
                "(per-subject monitoring), audit with `--deployment seen-groups`.",
            )
        if strong or moderate:
            return CheckResult(
                NAME,
                WARN,
                numbers,
                measured
                + shared_text
                + "; "
                + (
                    "few enough that the inflation is bounded by that share"
                    if strong
                    else "the group carries some of the label and the score may be somewhat inflated"
                )
                + ". Prefer a split where every group is in one subset only.",
            )
        return CheckResult(
            NAME,
            PASS,
            numbers,
            measured + shared_text + ", but neither the group's rate nor the features' grip on the group is strong "
            "enough to inflate the score much.",
        )
    if group_auc >= GROUP_AUC_FAIL:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            measured + " The subsets share no group, so the model cannot exploit this on test; but the label depends "
            "strongly on the group, so the test score depends on which groups were drawn into test. Report it over "
            "several group splits (`--n-splits`, `logo`) with its interval and look at per-group metrics.",
        )
    return CheckResult(
        NAME,
        PASS,
        numbers,
        measured + " The subsets share no group, so the test score is not inflated by recognising groups.",
    )


def _judged_for_seen_groups(numbers: dict, measured: str, group_auc: float, lift: float, on_split_auc: float):
    """The verdict on shared groups for a model used on the groups it was trained on: knowing the group is fair."""
    knows = (
        " The audit judges the split for deployment on groups already seen, where the model does know each group: "
        "recognising it"
        + (f" (the features name it with lift {num(lift)})" if not math.isnan(lift) and lift >= LIFT_WARN else "")
        + " and learning its own events are personalisation, not a leak."
    )
    if group_auc >= GROUP_AUC_FAIL:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            measured + "." + knows + " But the group alone predicts the label (per-group training rates alone score "
            f"ROC AUC {num(on_split_auc)} on this split's test windows), so the pooled score credits the model for "
            "ranking groups by their positive rates, which monitoring one subject never needs. Judge the model by "
            "its metrics within each group (per_group_spread), not the pooled score.",
        )
    return CheckResult(
        NAME,
        PASS,
        numbers,
        measured + "." + knows + " The group's positive rate alone does not predict the label strongly, so the "
        "pooled score is not carried by differences between groups.",
    )
