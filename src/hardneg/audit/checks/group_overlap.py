"""group_overlap: groups (subjects, sessions, patients, videos) that sit in more than one subset of a fold."""

from __future__ import annotations

import numpy as np

from hardneg._schema import SUBSETS
from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import LEAK_PAIRS, in_fold, pct, preview, skip

NAME = "group_overlap"

#: Strategies that put every group in training and test on purpose. Sharing is then what the split measures,
#: not an accident, so it is a WARN that says what the score means instead of a FAIL: an intra-group split
#: measures separation within groups already seen (an intra-video split, for example), a time-blocked split measures
#: later time on recordings already seen. Neither measures a new subject or session.
SHARED_BY_DESIGN = {
    "intra-group": (
        "This is an intra-group split: every group is in training and test on purpose and its events are divided "
        "in time, so the score measures how well the model separates events from non-events within groups it has "
        "already seen (the within-video question of an intra-video split), not how it does on a new group."
    ),
    "time": (
        "This is a time-blocked split: every recording is cut in time and appears in training and test on purpose, "
        "so the score measures how the model does later on recordings and groups it has already seen, not on a new "
        "subject or session."
    ),
}


@register_check(NAME)
def group_overlap(context) -> CheckResult:
    """Groups (subjects, sessions, patients, videos) that appear in more than one subset of a fold."""
    per_fold, shared_union, worst_share, worst_fold = [], set(), 0.0, None
    any_pair = False
    for fold in context.folds:
        rows = context.fold_assignments(fold)
        groups = {subset: set(rows.loc[rows["subset"] == subset, "group"]) for subset in SUBSETS}
        entry, fold_shared = {"fold": fold}, set()
        for first, second in LEAK_PAIRS:
            if groups[first] and groups[second]:
                any_pair = True
                shared = groups[first] & groups[second]
                entry[f"{first}_{second}"] = len(shared)
                fold_shared |= shared
        entry["shared_groups"] = len(fold_shared)
        shared_union |= fold_shared
        # The share of scored windows whose group the model was trained on: how much of the score can be recognition.
        scored = rows[rows["subset"] == "test"] if groups["test"] else rows[rows["subset"] == "val"]
        train_codes = rows.loc[rows["subset"] == "train", "group_code"].to_numpy()
        seen = np.bincount(train_codes, minlength=int(context.group_codes.max()) + 1) > 0
        share = float(seen[scored["group_code"].to_numpy()].mean()) if len(scored) else 0.0
        entry["test_windows_in_train_groups"] = share
        per_fold.append(entry)
        if share > worst_share or worst_fold is None:
            worst_share, worst_fold = share, fold
    if not any_pair:
        return skip(NAME, "The split has a single subset in every fold, so no group can be in two subsets.")

    n_groups = int(context.assignments["group"].nunique())
    numbers = {
        "shared_groups": len(shared_union),
        "test_windows_in_train_groups": worst_share,
        "folds_with_shared_groups": sum(entry["shared_groups"] > 0 for entry in per_fold),
        "n_groups": n_groups,
        "shared_group_examples": [str(group) for group in preview(shared_union)],
        "per_fold": per_fold,
    }
    where = in_fold(context, worst_fold) + ("," if len(context.folds) > 1 else "")
    if not shared_union:
        return CheckResult(
            NAME,
            PASS,
            numbers,
            f"Each of the {n_groups} groups is in one subset only, in every fold: the test windows come from groups "
            "the model never saw in training, which is what running it on a new subject or session looks like. "
            "Scores on this split can be read as generalisation to new groups (check group_confound for how much the "
            "label depends on the group, which makes them vary with the groups drawn).",
        )
    strategy = (context.strategy or "").lower()
    if strategy in SHARED_BY_DESIGN:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            f"{len(shared_union)} of {n_groups} groups are in more than one subset;{where} "
            f"{pct(worst_share)} of the test windows come from groups also in training. "
            f"{SHARED_BY_DESIGN[strategy]} Read its scores as an upper bound for new groups and report them next to "
            "a group split's (`--strategy group` or `stratified-group`).",
        )
    return CheckResult(
        NAME,
        FAIL,
        numbers,
        f"{len(shared_union)} of {n_groups} groups are in more than one subset (e.g. "
        f"{', '.join(numbers['shared_group_examples'][:5])});{where} {pct(worst_share)} of the test windows come "
        "from groups the model was trained on. The model can then score well by recognising the subject, session or "
        "camera instead of the event, so the test score overstates what it will do on a new group, often by a lot "
        "(one video model reached 60% tail recall on seen videos and 17% on new ones). Split by group instead "
        "(`--strategy group` or `stratified-group`, or `--test-groups` for a fixed list such as MIT-BIH's DS2) so that "
        "every group is in one subset only.",
    )
