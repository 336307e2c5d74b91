"""group_overlap: groups (subjects, sessions, patients, videos) that sit in more than one subset of a fold.

What a shared group means depends on the deployment the split is judged for
(:class:`~hardneg.audit.AuditContext` ``deployment``):

* ``"new-groups"`` (the default): the model will meet subjects, sessions or
  cameras it was not trained on, so every shared group is a FAIL. That
  includes time-blocked and intra-group splits, which share every group on
  purpose: their score measures later time, or other events, on groups the
  model has seen, and says nothing about a new group. The explanation says so
  and points to ``--deployment seen-groups`` for a model that will be used on
  the groups it was trained on.
* ``"seen-groups"``: the model is used on the groups it was trained on
  (per-subject monitoring, a model personalised on each group's past), so
  shared groups are what the deployment looks like: PASS when every scored
  window's group is in training, and WARN when some scored windows come from
  groups the model never saw, which that deployment never meets. Whether
  training and test windows of a group are far enough apart in time is
  temporal_overlap's question, not this one's.
"""

from __future__ import annotations

import numpy as np

from hardneg._schema import SUBSETS
from hardneg.audit._base import FAIL, PASS, SEEN_GROUPS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import LEAK_PAIRS, in_fold, pct, preview, skip

NAME = "group_overlap"

#: Strategies that put every group in training and test on purpose: what their score measures instead of
#: generalisation to new groups. An intra-group split measures separation within groups already seen (an
#: intra-video split, for example), a time-blocked split measures later time on recordings already seen.
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
    least_share, least_fold = 1.0, None
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
        if len(scored) and (share < least_share or least_fold is None):
            least_share, least_fold = share, fold
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
    if context.deployment == SEEN_GROUPS:
        return _judged_for_seen_groups(context, numbers, least_share, least_fold)
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
            FAIL,
            numbers,
            f"{len(shared_union)} of {n_groups} groups are in more than one subset;{where} "
            f"{pct(worst_share)} of the test windows come from groups also in training. "
            f"{SHARED_BY_DESIGN[strategy]} For a model that will meet new groups, as this audit assumes, that is a "
            "FAIL: the score does not say how the model does on new groups. To measure that, split by group "
            "(`--strategy group` or `stratified-group`). If the model will be used on the groups it was trained on "
            "(per-subject monitoring, a model personalised on each group's past), audit with "
            "`--deployment seen-groups`.",
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


def _judged_for_seen_groups(context, numbers: dict, least_share: float, least_fold) -> CheckResult:
    """The verdict for a model used on the groups it was trained on: shared groups are by design."""
    shared, n_groups = numbers["shared_groups"], numbers["n_groups"]
    if least_fold is not None and least_share < 1.0:
        where = in_fold(context, least_fold) + ("," if len(context.folds) > 1 else "")
        return CheckResult(
            NAME,
            WARN,
            numbers,
            f"This audit judges the split for deployment on groups already seen, but{where} "
            f"{pct(1.0 - least_share)} of the test windows come from groups the model was not trained on. That "
            "deployment never meets a new group, so those windows measure a harder question than the one asked and "
            "the score mixes the two (it is probably pessimistic for the groups the model will be used on). Use a "
            "time-blocked or intra-group split (`--strategy time` or `intra-group`), which puts every group in "
            "training and test; or, if the model will meet new subjects or sessions, audit with "
            "`--deployment new-groups`.",
        )
    return CheckResult(
        NAME,
        PASS,
        numbers,
        f"Every test window comes from a group also in training ({shared} of {n_groups} groups are in more than one "
        "subset), as in the deployment this audit judges the split for: a model used on the groups it was trained "
        "on. The score covers only groups seen in training and says nothing about a new subject or session. "
        "Whether training and test windows of a group are far enough apart in time is temporal_overlap's question.",
    )
