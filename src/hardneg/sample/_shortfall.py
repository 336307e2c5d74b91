"""What a sampling run could not deliver, said as a warning that names the constraint and what relaxes it.

The sampler's report counts, for each filter of candidate negatives, how many
it removed; these functions read those counts and name the one that cost the
most. Messages name sampling *parameters* (``neg_min_sep_ms``); the command
line shows them as its flags.

Examples
--------
>>> report = {
...     "candidates": {"total": 1000, "remaining": 900, "removed": {"edges": 100}},
...     "pools": {"near": {"qualifying": 400, "available": 300, "removed": {"min_motion_quantile": 100},
...                        "duplicates": 0, "rejected_min_separation": 250}},
...     "negatives": {"requested": {"near": 80}, "achieved": {"near": 50}, "shortfall": {"near": 30}},
... }
>>> print(shortfall_warnings(report, {"neg_min_sep_ms": 250.0, "neg_mult": 4.0}))
['near negatives: 50 of 80 requested (short by 30); 300 candidates were available, but 250 draws started within neg_min_sep_ms (250 ms) of another negative: lower neg_min_sep_ms, or neg_mult']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from hardneg.errors import InputError
from hardneg.io import Recording

__all__ = ["RELAX", "no_negative_warning", "no_positive_error", "shortfall_warnings"]

#: the sampling parameter(s) that relax each filter of candidate negatives
RELAX = {
    "contains_nan": "the NaN gaps in the recordings",
    "edges": "neg_avoid_edges / edge_ms",
    "exclusion_zone": "near_max_ms, far_min_ms or neg_avoid_post_ms",
    "min_motion_quantile": "neg_min_motion_quantile",
    "match_pos_motion": "neg_match_pos_motion / neg_pos_motion_q",
    "rejected_min_separation": "neg_min_sep_ms",
    "outside_near": "near_max_ms",
    "outside_far": "far_min_ms",
}

#: what each filter is, in words, where its count is reported
_WHAT = {
    "outside_near": "the near zone",
    "outside_far": "the far zone",
    "exclusion_zone": "the events' exclusion zones",
    "edges": "neg_avoid_edges",
    "contains_nan": "NaN",
    "min_motion_quantile": "neg_min_motion_quantile",
    "match_pos_motion": "neg_match_pos_motion",
}


def no_negative_warning(report: Mapping) -> str:
    """Every requested negative was filtered out: say which filter removed the most, and what relaxes it."""
    shared = report["candidates"]["removed"]
    removed = dict(shared)  # the filters every pool shares count once; each pool's own ones add up
    for kind, pool in report["pools"].items():
        for name, count in _removed_by(report, kind).items():
            if name not in shared:
                removed[name] = removed.get(name, 0) + count
        removed["rejected_min_separation"] = removed.get("rejected_min_separation", 0) + pool["rejected_min_separation"]
    worst = max(removed, key=lambda name: removed[name]) if removed else None
    requested = sum(report["negatives"]["requested"].values())
    why = ""
    if worst is not None and removed[worst] > 0:
        why = f"; {_WHAT.get(worst, worst)} removed the most ({removed[worst]}): relax {RELAX.get(worst, worst)}"
    return (
        f"the dataset holds no negative window: {requested} requested, {report['candidates']['total']} candidate "
        f"windows{why}; a detector cannot be trained or evaluated on it"
    )


def _removed_by(report: Mapping, kind: str) -> dict[str, int]:
    """How many candidates each filter kept out of ``kind``'s pool: shared filters, the pool's zone, motion."""
    removed = dict(report["candidates"]["removed"])
    zone = {"near": "outside_near", "far": "outside_far"}.get(kind)
    if zone is not None:
        removed[zone] = report["candidates"]["remaining"] - report["pools"][kind]["qualifying"]
    removed.update(report["pools"][kind]["removed"])
    return removed


def shortfall_warnings(report: Mapping, parameters: Mapping) -> list[str]:
    """One line per negative kind that fell short: the constraint that removed the most, and what to relax.

    A pool with at least as many qualifying windows as requested fell short in the draw, by the minimum
    separation between negatives; otherwise the filter that removed the most candidates (the pool's own zone,
    the candidate filters shared by every pool, or the motion filters) is named.

    Parameters
    ----------
    report : mapping
        The sampler's report (``meta.json``'s ``counts``): ``candidates``, ``pools`` and ``negatives``.
    parameters : mapping
        The sampling parameters, for the values the lines quote.
    """
    lines = []
    negatives = report["negatives"]
    for kind, short in negatives.get("shortfall", {}).items():
        pool = report["pools"].get(kind)
        if not short or pool is None:
            continue
        requested = negatives["requested"][kind]
        achieved = negatives.get("achieved", {}).get(kind, 0)
        head = f"{kind} negatives: {achieved} of {requested} requested (short by {short})"
        rejected = pool.get("rejected_min_separation", 0)
        if pool["available"] >= requested:
            separation = parameters.get("neg_min_sep_ms", 0.0)
            lines.append(
                f"{head}; {pool['available']} candidates were available, but {rejected} draws started within "
                f"neg_min_sep_ms ({separation:g} ms) of another negative: lower neg_min_sep_ms, or neg_mult"
            )
            continue
        removed = _removed_by(report, kind)
        ranked = sorted((name for name in removed if removed[name] > 0), key=lambda name: -removed[name])
        line = f"{head}; only {pool['available']} candidates were left"
        if ranked:
            costs = ", ".join(f"{_WHAT.get(name, name)} {removed[name]}" for name in ranked[:3])
            line += f" (removed by {costs}): relax {RELAX.get(ranked[0], ranked[0])}, or lower neg_mult"
        else:
            line += ": the recordings are too short for more; lower neg_mult"
        if rejected:
            line += f" ({rejected} more draws fell within neg_min_sep_ms of another negative)"
        lines.append(line)
    return lines


def no_positive_error(counts: Mapping, events: pd.DataFrame, recordings: Sequence[Recording]) -> InputError:
    """No event gave a positive window: the counts of why, and what to check."""
    where = ""
    if len(events) and counts["outside_recording"] == counts["total"]:
        span = f"{min(r.t0_ms for r in recordings):g}..{max(r.end_ms for r in recordings):g}"
        where = (
            f" (events at {events['t_ms'].min():g}..{events['t_ms'].max():g} ms, recordings span {span} ms: "
            "are both on the same clock and unit?)"
        )
    return InputError(
        f"no positive window: {counts['total']} events, {counts['dropped_min_gap']} dropped by "
        f"--min-event-gap-ms, {counts['outside_recording']} with a window outside their recording, "
        f"{counts['contains_nan']} with NaN in their window{where}; check --events/--event-col/--event-symbols, "
        "--window-ms, --lead-ms and --align"
    )
