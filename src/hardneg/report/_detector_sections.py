"""The detector sections of the bench report: errors by kind of negative, the threshold, groups, low FPR.

:func:`detector_sections` renders a :class:`~hardneg.report._detector.DetectorTables` into a
:class:`~hardneg.report.Document`; it computes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from hardneg.report._detector import DetectorTables
from hardneg.report._render import Heading, Paragraph, Table

__all__ = ["detector_sections"]

_WHY_KINDS = (
    "A detector in the field meets far more negatives than positives, and not all negatives are alike: windows "
    "close to an event (near) or that an earlier model scored high (hard) look most like the event. The share of "
    "each kind scored at or above the threshold chosen on validation is how often that kind raises a false alarm; "
    "the ROC AUC of the positives against that kind alone is how well the scores separate them at any threshold. A "
    "kind with a high share above the threshold is where the detector errs, and where mining more negatives "
    "(`hardneg mine`) is most likely to help."
)


def _pct(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100.0 * value:.1f}%"


def _num(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _count(value: float) -> str:
    """A mean count per seed: whole numbers as such, others with one decimal."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _with_ci(value, low, high, fmt) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if not (math.isfinite(low) and math.isfinite(high)):
        return fmt(value)
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def _combo_name(model: str, features: str) -> str:
    return f"{model} · {features}"


def _rows_of(frame: pd.DataFrame, split: str, model: str | None = None, features: str | None = None):
    keep = frame["split"] == split
    if model is not None:
        keep &= (frame["model"] == model) & (frame["features"] == features)
    return frame[keep]


def _ci_words(tables: DetectorTables) -> str:
    return f"{round(100 * tables.confidence):g}% intervals over {tables.covers}"


def _kind_section(doc, tables: DetectorTables, splits, marks) -> None:
    doc.add(Heading(2, "Errors by kind of negative", "errors-by-kind-of-negative"), Paragraph(_WHY_KINDS))
    frame = tables.per_kind
    if frame.empty:
        doc.add(Paragraph("The test windows carry no kind of negative, so there is nothing to break down.", "note"))
        return
    level = f"{round(100 * tables.confidence):g}% CI"
    for split in splits:
        here = _rows_of(frame, split)
        if here.empty:
            continue
        kinds = list(dict.fromkeys(here["kind"]))
        header = ["model · features"]
        for kind in kinds:
            header += [f"{kind}: share above threshold [{level}]", f"{kind}: ROC AUC vs positives [{level}]"]
        rows = []
        for (model, features), combo in here.groupby(["model", "features"], sort=False):
            by_kind = {row.kind: row for row in combo.itertuples(index=False)}
            row = [_combo_name(model, features)]
            for kind in kinds:
                found = by_kind.get(kind)
                if found is None:
                    row += ["n/a", "n/a"]
                    continue
                row.append(_with_ci(found.share_above, found.share_low, found.share_high, _pct))
                row.append(_with_ci(found.roc_auc, found.auc_low, found.auc_high, _num))
            rows.append(row)
        counts = ", ".join(
            f"{kind} {_count(float(here.loc[here['kind'] == kind, 'n_windows'].iloc[0]))}" for kind in kinds
        )
        caption = (
            f"`{split}`{marks.get(split, '')}: test negatives per seed by kind ({counts}); mean over seeds, "
            f"{_ci_words(tables)}."
        )
        doc.add(Table(header, rows, align="l" + "r" * (len(header) - 1), caption=caption))


def _threshold_section(doc, tables: DetectorTables, splits, marks, best) -> None:
    doc.add(Heading(2, "At the chosen threshold", "at-the-chosen-threshold"))
    frame = tables.confusion
    if frame.empty or frame["tp"].isna().all():
        doc.add(
            Paragraph(
                "These scores carry no threshold chosen on validation, so there are no counts at a threshold.", "note"
            )
        )
        return
    doc.add(
        Paragraph(
            "What the detector does at the threshold chosen on each fold's validation windows: mean counts of test "
            "windows per seed. False positives per hour count the false alarms per hour of negative test windows "
            + (
                f"({tables.window_ms:g} ms each)."
                if tables.window_ms is not None
                else "and need the window length, which was not given."
            )
        )
    )
    for split in splits:
        pick = best.get(split)
        if pick is None:
            continue
        here = _rows_of(frame, split, *pick)
        if here.empty or not math.isfinite(here["tp"].iloc[0]):
            continue
        row = here.iloc[0]
        caption = (
            f"`{split}`{marks.get(split, '')}, best model {_combo_name(*pick)}: precision {_num(row['precision'])}, "
            f"recall {_num(row['recall'])}, false positives per hour {_num(row['fp_per_hour'], 1)}."
        )
        doc.add(
            Table(
                ["", "predicted positive", "predicted negative"],
                [
                    ["positive windows", _count(row["tp"]), _count(row["fn"])],
                    ["negative windows", _count(row["fp"]), _count(row["tn"])],
                ],
                align="lrr",
                caption=caption,
            )
        )
    header = ["split", "model · features", "TP", "FP", "FN", "TN", "precision", "recall", "FP per hour"]
    rows = []
    for split in splits:
        for row in _rows_of(frame, split).itertuples(index=False):
            rows.append(
                [f"{split}{marks.get(split, '')}", _combo_name(row.model, row.features)]
                + [_count(v) for v in (row.tp, row.fp, row.fn, row.tn)]
                + [_num(row.precision), _num(row.recall), _num(row.fp_per_hour, 1)]
            )
    doc.add(Table(header, rows, align="ll" + "r" * 7, caption="Every combination, mean per seed."))


def _group_section(doc, tables: DetectorTables, splits, marks, best, max_groups_shown) -> None:
    doc.add(
        Heading(2, "Per group", "per-group"),
        Paragraph(
            "The same best model on each test group alone, worst first (lowest AP, then lowest recall): a mean over "
            "the seeds that tested the group. A few groups far below the rest are where the detector fails, whatever "
            "its average."
        ),
    )
    for split in splits:
        pick = best.get(split)
        here = _rows_of(tables.per_group, split, *pick) if pick is not None else tables.per_group.iloc[:0]
        if here.empty:
            continue
        shown = here.head(max_groups_shown)
        rows = [
            [f"`{row.group}`", str(row.n_seeds), _count(row.n_windows), _count(row.n_positives)]
            + [_num(row.average_precision), _num(row.recall), _num(row.fpr)]
            for row in shown.itertuples(index=False)
        ]
        of = f"the worst {len(shown)} of {len(here)} groups" if len(here) > len(shown) else f"all {len(here)} groups"
        caption = (
            f"`{split}`{marks.get(split, '')}, {_combo_name(*pick)}: {of}; windows and positives per seed that "
            "tested the group; recall and FPR at the threshold chosen on validation."
        )
        header = ["group", "seeds", "test windows", "positives", "AP", "recall", "FPR"]
        doc.add(Table(header, rows, align="l" + "r" * 6, caption=caption))
        worst = [f"`{row.group}` (AP {_num(row.average_precision)})" for row in here.head(3).itertuples(index=False)]
        if worst:
            doc.add(Paragraph(f"Worst groups on `{split}`{marks.get(split, '')}: {', '.join(worst)}."))


def _low_fpr_section(doc, tables: DetectorTables, splits, marks) -> None:
    doc.add(
        Heading(2, "Recall at low false-positive rates", "recall-at-low-false-positive-rates"),
        Paragraph(
            "A detector that runs all day must keep false alarms rare: the share of positives found while at most 1% "
            "or 0.1% of negative windows score as high, mean over seeds (the highest recall at that rate on each "
            "seed's test windows). A rate below one window of the test negatives is not measured by them."
        ),
    )
    frame = tables.low_fpr
    if frame.empty:
        return
    targets = list(dict.fromkeys(frame["target_fpr"]))
    header = ["split", "model · features", *[f"recall @ FPR {_rate(t)}" for t in targets], "test negatives per seed"]
    rows = []
    for split in splits:
        here = _rows_of(frame, split)
        for (model, features), combo in here.groupby(["model", "features"], sort=False):
            by_target = {row.target_fpr: row for row in combo.itertuples(index=False)}
            row = [f"{split}{marks.get(split, '')}", _combo_name(model, features)]
            for target in targets:
                found = by_target.get(target)
                cell = "n/a" if found is None else _num(found.recall)
                if found is not None and found.too_few_negatives:
                    cell += f" (fewer than {round(1 / target):,} negatives)"
                row.append(cell)
            row.append(_count(float(combo["n_negatives"].iloc[0])))
            rows.append(row)
    doc.add(Table(header, rows, align="ll" + "r" * (len(header) - 2)))


def _rate(target: float) -> str:
    return f"{100 * target:g}%"


def detector_sections(
    doc,
    tables: DetectorTables,
    *,
    splits: Sequence[str],
    trust_marks: Mapping[str, str],
    best: Mapping[str, tuple[str, str] | None],
    max_groups_shown: int = 10,
) -> None:
    """Add the four detector sections to ``doc``, in reading order.

    "Errors by kind of negative", "At the chosen threshold", "Per group" and
    "Recall at low false-positive rates".

    Parameters
    ----------
    doc : Document
        The report being built; blocks are appended.
    tables : DetectorTables
        From :func:`hardneg.report._detector.detector_tables`.
    splits : sequence of str
        Splits in report order; a split without rows is left out.
    trust_marks : mapping
        Split -> ``""`` or ``" ⚠"``, appended to the split's name wherever it is shown.
    best : mapping
        Split -> the best ``(model, features)`` (or None), whose confusion matrix and groups are shown.
    max_groups_shown : int
        Groups listed per split, worst first.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from hardneg.report import Document
    >>> from hardneg.report._detector import detector_tables
    >>> kind = np.tile(["pos", "near", "far", "far"], 20)
    >>> scores = pd.DataFrame({"model": "et", "features": "rich", "split": "group", "seed": 0, "fold": 0,
    ...     "subset": "test", "window_id": np.arange(80), "label": (kind == "pos").astype(int),
    ...     "group": np.repeat([f"p{i}" for i in range(8)], 10), "kind": kind,
    ...     "score": np.where(kind == "pos", 0.9, np.where(kind == "near", 0.6, 0.1)) - np.arange(80) / 200,
    ...     "threshold": 0.5})
    >>> tables = detector_tables(scores, {"group": [("et", "rich")]}, n_resamples=100)
    >>> doc = Document("Report")
    >>> detector_sections(doc, tables, splits=["group"], trust_marks={"group": ""}, best={"group": ("et", "rich")})
    >>> [line for line in doc.markdown().splitlines() if line.startswith("## ")]  # doctest: +NORMALIZE_WHITESPACE
    ['## Errors by kind of negative', '## At the chosen threshold', '## Per group',
     '## Recall at low false-positive rates']
    """
    splits = [str(s) for s in splits]
    _kind_section(doc, tables, splits, trust_marks)
    _threshold_section(doc, tables, splits, trust_marks, best)
    _group_section(doc, tables, splits, trust_marks, best, max_groups_shown)
    _low_fpr_section(doc, tables, splits, trust_marks)
