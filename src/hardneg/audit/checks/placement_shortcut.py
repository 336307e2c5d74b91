"""placement_shortcut: how well where a window sits, and nothing of its signal, predicts its label.

A time split can "look perfect because negatives were constructed
relative to shot timing": when negatives are drawn at fixed offsets from the
events, away from edges, or only from some stretches of a recording, the
label can be read off a window's placement. A model never sees the
placement directly, but the signal carries it (drift, the minutes before a
shot, the start of a session), so a split that also follows placement
(time blocks) can reward the artefact. This check measures the artefact
itself: a gradient-boosting classifier gets five placement features, no
signal, and is cross-validated with whole recordings held out.

The verdict does not depend on the deployment the split is judged for
(:class:`~hardneg.audit.AuditContext` ``deployment``): a model used on the
groups it was trained on meets their windows wherever they fall, not where
the sampler placed them, so the artefact inflates the score all the same.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict

from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import num, skip

NAME = "placement_shortcut"

#: ROC AUC of placement alone from which the labels are essentially given by where windows were cut (0.9, the
#: usual "excellent" boundary) or strongly shaped by it (0.75). Uniformly placed negatives give about 0.5.
AUC_FAIL = 0.9
AUC_WARN = 0.75
#: Splits whose subsets follow placement (time blocks, events ordered in time), where a placement artefact turns
#: into an inflated score; on other splits it is a property of how the dataset was sampled, shared by every split
#: of it, so it is reported as a WARN that points to stream evaluation rather than failing the split.
PLACEMENT_FOLLOWING = ("time", "intra-group")
#: Windows sampled to fit on (placement is computed from all of them first); enough for a stable AUC.
SAMPLE = 10000
CV_FOLDS = 5
FEATURES = ("since_start_ms", "to_end_ms", "gap_prev_ms", "gap_next_ms", "position")


def placement_features(index: pd.DataFrame, recordings: list[dict] | None = None) -> pd.DataFrame:
    """Five placement features per window of ``index`` (``recording``, ``start_ms``, ``end_ms``).

    ``since_start_ms`` and ``to_end_ms`` measure from the recording's first
    and last sample (``meta["recordings"]`` ``t0_ms``/``end_ms``; the
    earliest window start and latest window end when unknown),
    ``gap_prev_ms``/``gap_next_ms`` the time to the previous window's end and
    the next window's start on the same recording (NaN at either end;
    negative when windows overlap), ``position`` the fraction of the
    recording before the window's start. Rows keep ``index``'s order.
    """
    frame = index[["recording", "start_ms", "end_ms"]].copy()
    frame["recording"] = frame["recording"].astype(str)
    first = frame.groupby("recording")["start_ms"].transform("min")
    last = frame.groupby("recording")["end_ms"].transform("max")
    if recordings:
        bounds = {str(r["id"]): (r.get("t0_ms"), r.get("end_ms")) for r in recordings if "id" in r}
        t0 = frame["recording"].map(lambda rec: bounds.get(rec, (None, None))[0]).astype(float)
        t1 = frame["recording"].map(lambda rec: bounds.get(rec, (None, None))[1]).astype(float)
        first = t0.fillna(first).where(t0.isna() | (t0 <= first), first)
        last = t1.fillna(last).where(t1.isna() | (t1 >= last), last)
    order = np.lexsort((frame["start_ms"].to_numpy(), frame["recording"].to_numpy()))
    ordered = frame.iloc[order]
    same_prev = ordered["recording"].to_numpy()[1:] == ordered["recording"].to_numpy()[:-1]
    gap_prev = np.full(len(frame), np.nan)
    gap_next = np.full(len(frame), np.nan)
    starts, ends = ordered["start_ms"].to_numpy(), ordered["end_ms"].to_numpy()
    gap_prev[1:] = np.where(same_prev, starts[1:] - ends[:-1], np.nan)
    gap_next[:-1] = np.where(same_prev, starts[1:] - ends[:-1], np.nan)
    out = pd.DataFrame(index=frame.index)
    out["since_start_ms"] = frame["start_ms"] - first
    out["to_end_ms"] = last - frame["end_ms"]
    out["gap_prev_ms"] = pd.Series(gap_prev, index=ordered.index)
    out["gap_next_ms"] = pd.Series(gap_next, index=ordered.index)
    span = (last - first).where(lambda s: s > 0)
    out["position"] = ((frame["start_ms"] - first) / span).fillna(0.0)
    return out


@register_check(NAME)
def placement_shortcut(context) -> CheckResult:
    """How well window placement alone (time from the recording's start and end, gaps to neighbours) predicts the label."""
    ids = context.used_window_ids
    index = context.index.iloc[ids]
    labels = index["label"].to_numpy().astype(int)
    if labels.min() == labels.max():
        return skip(NAME, "The split's windows hold one class only, so no AUC can be measured.")
    features = placement_features(index, (context.dataset.meta or {}).get("recordings"))
    recordings = index["recording"].astype(str).to_numpy()
    rng = context.rng(NAME)
    rows = np.arange(len(ids)) if len(ids) <= SAMPLE else np.sort(rng.choice(len(ids), SAMPLE, replace=False))
    x, y, rec = features.to_numpy()[rows], labels[rows], recordings[rows]
    if y.min() == y.max():
        return skip(NAME, "The sampled windows hold one class only, so no AUC can be measured.")
    n_recordings = len(np.unique(rec))
    seed = context.random_state(NAME)
    # Five features and a smooth signal: small, regularised trees (unregularised ones scored below the best single
    # feature on noisy labels); leaves of 1% of the windows, between 5 and 40.
    model = HistGradientBoostingClassifier(
        max_iter=50,
        max_leaf_nodes=15,
        min_samples_leaf=int(np.clip(len(y) // 100, 5, 40)),
        early_stopping=False,
        random_state=seed,
    )
    if n_recordings >= 2:
        cv, held_out, groups = GroupKFold(n_splits=min(CV_FOLDS, n_recordings)), "recordings", rec
    else:
        cv, held_out, groups = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed), "windows", None
    score = cross_val_predict(model, x, y, cv=cv, groups=groups, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, score))
    single = {}
    for column, values in zip(FEATURES, x.T):
        finite = ~np.isnan(values)
        if finite.any() and y[finite].min() != y[finite].max():
            value = float(roc_auc_score(y[finite], values[finite]))
            single[column] = max(value, 1.0 - value)  # direction does not matter: how separable on its own
    strongest = max(single, key=single.get) if single else None
    numbers = {
        "placement_auc": auc,
        "strongest_feature": strongest,
        "strongest_feature_auc": single.get(strongest, math.nan) if strongest else math.nan,
        "feature_auc": single,
        "held_out": held_out,
        "windows": len(rows),
    }
    measured = (
        f"A classifier that sees only where each window sits (time since the recording's start, time to its end, "
        f"gaps to the neighbouring windows, fractional position) and none of its signal predicts the label with ROC "
        f"AUC {num(auc)}, cross-validated with whole {held_out} held out"
        + (
            f"; {strongest.replace('_ms', '').replace('_', ' ')} alone gives {num(single[strongest])}."
            if strongest
            else "."
        )
    )
    if auc >= AUC_FAIL and context.strategy in PLACEMENT_FOLLOWING:
        verdict = FAIL
        advice = (
            " The labels are essentially given by how the windows were placed: negatives sit at fixed offsets from "
            "the events or in other stretches of the recordings than positives. Any signal that follows placement "
            "(drift, the pre-event routine, session start) then predicts the label, and a time split rewards it, "
            "so it can look perfect for this reason alone. Resample negatives so that their placement matches "
            "the positives' (`--neg-strategy uniform` or `far` with matched motion) and judge the model on whole "
            "recordings (stream evaluation) rather than on sampled windows."
        )
    elif auc >= AUC_FAIL:
        verdict = WARN
        advice = (
            " The labels are essentially given by how the windows were placed (negatives at fixed offsets from the "
            f"events). This {context.strategy or 'saved'} split does not follow placement, so the score is not "
            "inflated by it directly, but every split of this dataset carries the artefact: a time split would "
            "reward it, and any feature computed across neighbouring windows would leak the label. Judge the model "
            "on whole recordings (stream evaluation) too, and compare with negatives placed uniformly."
        )
    elif auc >= AUC_WARN:
        verdict = WARN
        advice = (
            " Placement carries a good part of the label, a sign that negatives were drawn relative to the events. "
            "Compare with negatives placed uniformly, and prefer group splits over time splits for this dataset."
        )
    else:
        verdict = PASS
        advice = (
            " Placement alone says little about the label, so a model cannot score well from where windows were cut."
        )
    return CheckResult(NAME, verdict, numbers, measured + advice)
