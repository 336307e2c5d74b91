"""temporal_overlap: windows of different subsets on the same recording that overlap or sit within the purge gap.

The verdict does not depend on the deployment the split is judged for
(:class:`~hardneg.audit.AuditContext` ``deployment``): even a model used on
the groups it was trained on meets their later signal, never windows that
share samples or the same moment with its training windows, so a random
window split FAILs here under ``"seen-groups"`` as under ``"new-groups"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import LEAK_PAIRS, in_fold, pct, skip
from hardneg.errors import InputError
from hardneg.split import default_gap_ms as split_default_gap_ms

NAME = "temporal_overlap"


def default_gap_ms(meta: dict) -> float | None:
    """The dataset's purge gap (:func:`hardneg.split.default_gap_ms`: window length plus post-event zone).

    ``None`` when the dataset's parameters do not say.
    """
    try:
        return split_default_gap_ms(meta)
    except InputError:
        return None


def near_windows(reference: pd.DataFrame, query: pd.DataFrame, gap_ms: float) -> np.ndarray:
    """For each ``query`` window, whether a ``reference`` window on the same recording comes within ``gap_ms``.

    Two windows ``[s1, e1)`` and ``[s2, e2)`` are within ``gap_ms`` when
    ``s1 < e2 + gap_ms`` and ``e1 > s2 - gap_ms``; with ``gap_ms = 0`` that is
    sharing at least one instant (windows that only touch do not count).
    Vectorised over all recordings: times are made relative to each
    recording's first window and recordings are laid end to end, further
    apart than any window and gap, so one sorted search serves them all.
    """
    if len(reference) == 0 or len(query) == 0:
        return np.zeros(len(query), dtype=bool)
    both = pd.concat([reference[["recording", "start_ms", "end_ms"]], query[["recording", "start_ms", "end_ms"]]])
    codes, _ = pd.factorize(both["recording"])
    origin = both.groupby(codes)["start_ms"].transform("min").to_numpy()
    start = both["start_ms"].to_numpy() - origin
    end = both["end_ms"].to_numpy() - origin
    stride = float(np.max(end)) + 2.0 * gap_ms + 1.0
    offset = codes * stride
    n_ref = len(reference)
    ref_start, ref_end = start[:n_ref] + offset[:n_ref], end[:n_ref] + offset[:n_ref]
    q_start, q_end = start[n_ref:] + offset[n_ref:], end[n_ref:] + offset[n_ref:]
    order = np.argsort(ref_start, kind="stable")
    ref_start, ref_end = ref_start[order], ref_end[order]
    # Every reference window starting before q_end + gap is a candidate; the latest end among them decides.
    latest_end = np.maximum.accumulate(ref_end)
    candidates = np.searchsorted(ref_start, q_end + gap_ms, side="left")
    found = candidates > 0
    hit = np.zeros(len(query), dtype=bool)
    hit[found] = latest_end[candidates[found] - 1] > q_start[found] - gap_ms
    return hit


@register_check(NAME)
def temporal_overlap(context) -> CheckResult:
    """Windows of different subsets on the same recording that overlap in time or sit within the purge gap."""
    declared = context.gap_ms
    gap = declared if declared is not None else 0.0
    dataset_gap = default_gap_ms(context.dataset.meta)
    per_fold, any_pair = [], False
    worst = {"windows": 0, "share": 0.0, "fold": context.folds[0], "pair": None}
    within_total, overlapping_total, within_default_total = 0, 0, 0
    for fold in context.folds:
        rows = context.fold_assignments(fold)
        entry = {"fold": fold}
        for first, second in LEAK_PAIRS:
            reference, query = rows[rows["subset"] == first], rows[rows["subset"] == second]
            if len(reference) == 0 or len(query) == 0:
                continue
            any_pair = True
            within = near_windows(reference, query, gap)
            overlapping = within if gap == 0 else near_windows(reference, query, 0.0)
            n_within = int(within.sum())
            within_total += n_within
            entry[f"{first}_{second}"] = n_within
            entry[f"{first}_{second}_overlapping"] = int(overlapping.sum())
            overlapping_total += int(overlapping.sum())
            if declared is None and dataset_gap:
                within_default_total += int(near_windows(reference, query, dataset_gap).sum())
            share = n_within / len(query)
            if n_within > worst["windows"] or (n_within == worst["windows"] and share > worst["share"]):
                worst = {"windows": n_within, "share": share, "fold": fold, "pair": f"{first}/{second}"}
        per_fold.append(entry)
    if not any_pair:
        return skip(NAME, "The split has a single subset in every fold, so no two subsets can meet in time.")

    numbers = {
        "windows_too_close": within_total,
        "worst_share": worst["share"],
        "overlapping": overlapping_total,
        "gap_ms": declared,
        "worst_pair": worst["pair"],
        "per_fold": per_fold,
    }
    if declared is None:
        numbers["dataset_gap_ms"] = dataset_gap
        numbers["within_dataset_gap"] = within_default_total
    where = in_fold(context, worst["fold"])
    rule = f"overlap or sit within the split's {declared:g} ms purge gap of" if declared else "overlap in time with"
    if numbers["windows_too_close"]:
        first, second = worst["pair"].split("/")
        return CheckResult(
            NAME,
            FAIL,
            numbers,
            f"{numbers['windows_too_close']} windows {rule} a window of another subset on the same recording; the "
            f"worst{where}: {worst['windows']} {second} windows ({pct(worst['share'])}) near {first} windows. "
            "Overlapping windows share samples, and windows a few hundred milliseconds apart share the same beat, "
            "motion or scene, so the model is scored on signal it was trained on and the score is optimistic. Split "
            "by group, or by time with a purge gap (`--strategy time --gap-ms G`, G at least the window length plus "
            "the post-event zone), so that no training window comes within the gap of a test window.",
        )
    if declared is None and within_default_total and dataset_gap:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            f"No windows of different subsets overlap, but the split declares no purge gap and "
            f"{within_default_total} windows sit within {dataset_gap:g} ms (window length plus post-event zone) of a "
            "window of another subset on the same recording. Neighbouring stretches of a recording are strongly "
            "correlated, so these pairs leak some information; make the split with a gap (`--gap-ms`) or by group.",
        )
    if declared:
        text = (
            f"No window comes within the split's {declared:g} ms purge gap of a window of another subset on the same "
            "recording, so no test window shares samples or immediate context with a training window."
        )
    else:
        text = (
            "No windows of different subsets overlap in time on the same recording"
            + (
                f", and none sit within {dataset_gap:g} ms (window length plus post-event zone) of each other"
                if dataset_gap
                else ""
            )
            + ", so no test window shares samples or immediate context with a training window."
        )
    return CheckResult(NAME, PASS, numbers, text)
