"""The sections of the experiment report, each built from the experiment's plain tables (see _experiment_report).

Numbers print as: fractions (F1, recall, ...) with 3 decimals, rates per hour with 1,
deltas with their sign, p-values with 3 significant digits, a missing number as ``—``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from hardneg._schema import (
    ARM_SUMMARY_COLUMNS,
    COMPARISON_COLUMNS,
    CRITERIA_COLUMNS,
    EXPERIMENT_RESULT_COLUMNS,
    FACTOR_COLUMNS,
    RUN_STATUS_COLUMNS,
    check_columns,
)
from hardneg.errors import InputError
from hardneg.report._render import Bullets, Heading, Paragraph, Table
from hardneg.stats import min_wilcoxon_p

__all__ = [
    "DASH",
    "SECTIONS",
    "Inputs",
    "ablation_section",
    "comparisons_section",
    "criteria_section",
    "factors_section",
    "first_error_line",
    "integer",
    "metric_label",
    "missing",
    "num",
    "plural",
    "pvalue",
    "results_section",
    "what_was_run",
    "with_ci",
]

DASH = "—"
#: the report's sections (level-2 headings), in order
SECTIONS = (
    "What was run",
    "Results",
    "Comparisons",
    "Ablation (sorted by impact)",
    "Factor effects",
    "Success criteria",
    "Figures",
    "Runs",
    "How to read this",
)
_TABLES = {
    "results": EXPERIMENT_RESULT_COLUMNS,
    "summary": ARM_SUMMARY_COLUMNS,
    "comparisons": COMPARISON_COLUMNS,
    "criteria": CRITERIA_COLUMNS,
    "factors": FACTOR_COLUMNS,
    "runs": RUN_STATUS_COLUMNS,
}
_DEFAULT_METRICS = ("f1", "precision", "recall", "fa_per_hour")
_LABELS = {
    "f1": "F1",
    "precision": "precision",
    "recall": "recall",
    "fa_per_hour": "FA/h",
    "fa_per_24h": "FA/24 h",
    "roc_auc": "ROC AUC",
    "average_precision": "AP",
    "ece": "ECE",
    "fpr": "FPR",
}


# ------------------------------------------------------------------ formatting
def missing(value) -> bool:
    if value is None or isinstance(value, str):
        return value is None
    try:
        return bool(pd.isna(value)) or not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def _is_rate(metric: str) -> bool:
    return "per_hour" in metric or "per_24h" in metric


def metric_label(metric: str) -> str:
    return _LABELS.get(metric, metric)


def num(value, metric: str = "", *, sign: bool = False) -> str:
    """``value`` as the report prints it: 3 decimals, 1 for a rate per hour; ``sign`` adds ``+``; missing is ``—``.

    Examples
    --------
    >>> num(0.81234, "f1"), num(2.25, "fa_per_hour"), num(0.031, "f1", sign=True), num(float("nan"))
    ('0.812', '2.2', '+0.031', '—')
    """
    if missing(value):
        return DASH
    digits = 1 if _is_rate(metric) else 3
    return f"{float(value):{'+' if sign else ''}.{digits}f}"


def with_ci(value, low, high, metric: str = "", *, sign: bool = False) -> str:
    """``value [low, high]``; the interval left out where either end is missing, ``—`` where the value is.

    Examples
    --------
    >>> with_ci(0.8, 0.75, 0.85, "f1"), with_ci(0.031, 0.004, 0.058, "f1", sign=True), with_ci(0.8, None, 1, "f1")
    ('0.800 [0.750, 0.850]', '+0.031 [+0.004, +0.058]', '0.800')
    """
    text = num(value, metric, sign=sign)
    if text == DASH or missing(low) or missing(high):
        return text
    return f"{text} [{num(low, metric, sign=sign)}, {num(high, metric, sign=sign)}]"


def pvalue(value) -> str:
    """A p-value with 3 significant digits (``0.0625``, ``0.0312``, ``1``), ``—`` where missing."""
    return DASH if missing(value) else f"{float(value):.3g}"


def integer(value) -> str:
    return DASH if missing(value) else str(int(value))


def first_error_line(error) -> str:
    if missing(error) or not str(error).strip():
        return "no error message recorded"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    # a Python traceback says what went wrong on its last line, not its first
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return line if len(line) <= 200 else line[:199] + "…"


# ------------------------------------------------------------------ inputs
class Inputs:
    """The tables (missing ones empty) and the orders every section shares."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], meta: Mapping):
        if not isinstance(tables, Mapping):
            raise InputError(f"tables must be a dict of DataFrames, got {type(tables).__name__}", parameter="tables")
        if not isinstance(meta, Mapping):
            raise InputError(f"meta must be a dict, got {type(meta).__name__}", parameter="meta")
        self.meta = meta
        self.axes: dict[str, list] = {str(k): list(v) for k, v in (meta.get("axes") or {}).items()}
        self.frames: dict[str, pd.DataFrame] = {}
        for name, columns in _TABLES.items():
            frame = tables.get(name)
            if frame is None:
                frame = pd.DataFrame(columns=list(columns))
            if not isinstance(frame, pd.DataFrame):
                raise InputError(
                    f"tables[{name!r}] must be a pandas DataFrame, got {type(frame).__name__}", parameter="tables"
                )
            try:
                check_columns(frame, columns, f"tables[{name!r}]")
            except InputError as error:
                raise InputError(str(error), parameter="tables") from None
            self.frames[name] = frame.reset_index(drop=True)
        self.arm_levels: dict[str, dict] = {str(a): dict(v or {}) for a, v in (meta.get("arms") or {}).items()}
        seen = set(self.arm_levels)
        extra = set()
        for name in ("results", "summary", "comparisons", "criteria", "runs"):
            extra |= {str(a) for a in self.frames[name]["arm"]}
        extra |= {str(b) for b in self.frames["comparisons"]["baseline"]}
        self.arms = list(self.arm_levels) + sorted(extra - seen)
        self.eval_sets: dict[str, dict] = {str(k): dict(v or {}) for k, v in (meta.get("eval_sets") or {}).items()}
        extra = set()
        for name in ("results", "summary", "comparisons", "criteria", "factors"):
            extra |= {str(e) for e in self.frames[name]["eval_set"]}
        self.eval_order = list(self.eval_sets) + sorted(extra - set(self.eval_sets))
        self.primary = str(meta.get("primary_metric") or "f1")
        self.metrics = [str(m) for m in (meta.get("metrics") or _DEFAULT_METRICS)]
        self.alpha = float(meta.get("alpha", 0.05))
        self.baseline = dict(meta.get("baseline") or {})
        self.seeds = sorted({int(s) for s in meta.get("seeds") or []} | {int(s) for s in self.frames["runs"]["seed"]})
        summary = self.frames["summary"]
        self.summary = {
            (str(r.arm), str(r.eval_set), str(r.metric)): r
            for r in summary.drop_duplicates(["arm", "eval_set", "metric"]).itertuples(index=False)
        }

    def metric_rank(self, metric: str) -> tuple:
        if metric == self.primary:
            return (0, 0, metric)
        if metric in self.metrics:
            return (1, self.metrics.index(metric), metric)
        return (2, 0, metric)

    def rank(self, order: Sequence[str], value) -> tuple:
        value = str(value)
        return (order.index(value), "") if value in order else (len(order), value)

    def is_baseline(self, arm: str) -> bool:
        levels = self.arm_levels.get(arm)
        if levels is None or not self.baseline:
            return arm in set(self.frames["comparisons"]["baseline"].astype(str))
        return all(levels.get(axis) == level for axis, level in self.baseline.items())

    def comparisons(self, metric: str | None = None) -> pd.DataFrame:
        frame = self.frames["comparisons"]
        if metric is not None:
            frame = frame[frame["metric"].astype(str) == metric]
        keys = [
            (
                self.metric_rank(str(r.metric)),
                self.rank(self.eval_order, r.eval_set),
                self.rank(self.arms, r.arm),
                self.rank(self.arms, r.baseline),
            )
            for r in frame.itertuples(index=False)
        ]
        order = sorted(range(len(frame)), key=lambda i: keys[i])
        return frame.iloc[order].reset_index(drop=True)


# ------------------------------------------------------------------ sections
def what_was_run(inp: Inputs) -> list:
    meta, runs = inp.meta, inp.frames["runs"]
    items = []
    if meta.get("experiment"):
        items.append(f"Experiment file: `{meta['experiment']}`.")
    if meta.get("dataset"):
        items.append(f"Dataset: `{meta['dataset']}`.")
    if meta.get("model"):
        items.append(f"Model: `{meta['model']}`.")
    for axis, levels in inp.axes.items():
        items.append(f"Axis `{axis}`: " + ", ".join(f"`{level}`" for level in levels) + ".")
    if inp.baseline:
        fixed = ", ".join(f"{axis} = `{level}`" for axis, level in inp.baseline.items())
        items.append(f"Baseline: {fixed}; each arm is compared with the arm that differs from it only there.")
    items.append(
        f"{len(inp.arms)} arms, seeds {', '.join(str(s) for s in inp.seeds) or DASH} "
        f"({len(inp.seeds)} seeds, seed k gives every arm the same data order, split and initialisation)."
    )
    for name in inp.eval_order:
        info = inp.eval_sets.get(name, {})
        on = "windows and timelines" if info.get("timeline") else "windows"
        kind = f"{info['kind']}, " if info.get("kind") else ""
        text = f"Evaluation set `{name}` ({kind}{on})"
        items.append(text + (f": {info['description']}." if info.get("description") else "."))
    status = runs["status"].astype(str)
    items.append(
        f"Runs: {int((status == 'done').sum())} done, {int((status == 'resumed').sum())} resumed (finished "
        f"before, not redone), {int((status == 'failed').sum())} failed, of {len(runs)}."
    )
    items.append(f"Primary metric: {metric_label(inp.primary)}; significance level {inp.alpha:g}.")
    if meta.get("interval"):
        items.append(f"Intervals: {meta['interval']}")
    blocks: list = [Heading(2, "What was run"), Bullets(items)]
    if (status == "failed").any():
        blocks.append(
            Paragraph(
                "**Some runs failed** (see Runs): their arms are compared on the seeds that finished on both sides.",
                kind="warn",
            )
        )
    return blocks


def results_section(inp: Inputs) -> list:
    columns = [
        (es, metric)
        for es in inp.eval_order
        for metric in inp.metrics
        if (es, metric) in {(key[1], key[2]) for key in inp.summary}
    ]
    delta_sets = [es for es in inp.eval_order if (inp.frames["comparisons"]["eval_set"].astype(str) == es).any()]
    header = ["arm", "seeds"] + [f"{es} {metric_label(m)}" for es, m in columns]
    header += [f"{es} Δ{metric_label(inp.primary)} vs baseline" for es in delta_sets]
    primary = inp.comparisons(inp.primary)
    by_arm = {(str(r.arm), str(r.eval_set)): r for r in primary.itertuples(index=False)}
    rows = []
    for arm in inp.arms:
        counts = [int(r.n_seeds) for key, r in inp.summary.items() if key[0] == arm and not missing(r.n_seeds)]
        seeds = str(max(counts)) if counts else "0"
        row = [arm, f"{seeds}/{len(inp.seeds)}" if inp.seeds else seeds]
        for es, metric in columns:
            r = inp.summary.get((arm, es, metric))
            row.append(DASH if r is None else with_ci(r.mean, r.ci_low, r.ci_high, metric))
        for es in delta_sets:
            c = by_arm.get((arm, es))
            if c is not None:
                row.append(f"{with_ci(c.mean_delta, c.ci_low, c.ci_high, inp.primary, sign=True)} {c.label}")
            else:
                row.append("baseline" if inp.is_baseline(arm) else DASH)
        rows.append(row)
    caption = "Mean over seeds [interval] per arm; Δ: the arm minus its baseline arm, paired by seed id, and its label."
    if inp.meta.get("interval"):
        caption += f" Intervals: {inp.meta['interval']}"
    return [Heading(2, "Results"), Table(header, rows, align="lr" + "r" * (len(header) - 2), caption=caption)]


def comparisons_section(inp: Inputs) -> list:
    blocks: list = [Heading(2, "Comparisons")]
    frame = inp.comparisons()
    if frame.empty:
        return blocks + [
            Paragraph(
                "No comparisons: the experiment has no arm besides its baseline arms, or no "
                "seed finished on both sides.",
                kind="note",
            )
        ]
    header = [
        "arm",
        "baseline",
        "eval set",
        "metric",
        "pairs",
        "Δ [interval]",
        "Wilcoxon p",
        "Holm p",
        "label",
        "seeds needed",
    ]
    rows, unreachable, power, unpaired = [], {}, [], {}
    for r in frame.itertuples(index=False):
        m = str(r.metric)
        rows.append(
            [
                str(r.arm),
                str(r.baseline),
                str(r.eval_set),
                metric_label(m),
                integer(r.n_pairs),
                with_ci(r.mean_delta, r.ci_low, r.ci_high, m, sign=True),
                pvalue(r.wilcoxon_p),
                pvalue(r.p_holm),
                str(r.label),
                integer(r.seeds_needed),
            ]
        )
        name = f"`{r.arm}` vs `{r.baseline}` ({r.eval_set} {metric_label(m)})"
        if not missing(r.reachable) and not bool(r.reachable):
            unreachable.setdefault(0 if missing(r.n_pairs) else int(r.n_pairs), []).append(name)
        if m == inp.primary and str(r.label) != "significant" and not missing(r.seeds_needed):
            power.append(f"{name}: an effect of this size needs about {int(r.seeds_needed)} seeds at 80 % power.")
        if not missing(r.unpaired) and int(r.unpaired) > 0:
            key = (str(r.arm), str(r.baseline))
            unpaired[key] = max(unpaired.get(key, 0), int(r.unpaired))
    blocks.append(
        Table(
            header,
            rows,
            align="llllrrrrlr",
            caption=f"{metric_label(inp.primary)} first, then the other "
            "metrics; Holm p corrects the Wilcoxon p across the comparisons of its family.",
        )
    )
    # one note per seed count rather than per comparison: a grid of arms × sets × metrics repeats the same sentence
    enough = next(k for k in range(1, 64) if min_wilcoxon_p(k) < inp.alpha)
    notes = [
        f"With {n} paired seeds a two-sided Wilcoxon test cannot go below p = {min_wilcoxon_p(n):.4g}: run at least "
        f"{enough} seeds. This holds for {plural(len(names), 'comparison')}: {_listed(names)}."
        for n, names in sorted(unreachable.items())
    ]
    notes += power
    notes += [
        f"`{arm}` vs `{baseline}`: {plural(n, 'seed')} without a partner left out."
        for (arm, baseline), n in unpaired.items()
    ]
    if notes:
        blocks.append(Bullets(notes, kind="note"))
    return blocks


def plural(n: int, word: str) -> str:
    """``1 seed``, ``2 seeds``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _listed(names: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _changed(inp: Inputs, arm: str, baseline: str) -> tuple[str, ...] | None:
    a, b = inp.arm_levels.get(arm), inp.arm_levels.get(baseline)
    if a is None or b is None:
        return None
    return tuple(axis for axis in inp.axes if a.get(axis) != b.get(axis))


def _impact(delta, metric: str) -> str:
    if missing(delta):
        return DASH
    if _is_rate(metric):
        return f"{float(delta):+.1f} per hour"
    return f"{float(delta) * 100:+.1f} points"


def ablation_section(inp: Inputs) -> list:
    blocks: list = [Heading(2, "Ablation (sorted by impact)")]
    frame = inp.comparisons(inp.primary)
    if frame.empty:
        return blocks + [Paragraph(f"No comparison of {metric_label(inp.primary)} to sort.", kind="note")]
    groups: dict[tuple, list] = {}
    for r in frame.itertuples(index=False):
        changed = _changed(inp, str(r.arm), str(r.baseline))
        groups.setdefault((changed or ("other",), str(r.eval_set)), []).append(r)
    axis_rank = list(inp.axes) + ["other"]
    for changed, es in sorted(
        groups, key=lambda k: ([axis_rank.index(a) for a in k[0]], inp.rank(inp.eval_order, k[1]))
    ):
        rows = groups[(changed, es)]
        rows.sort(
            key=lambda r: (
                missing(r.mean_delta),
                -abs(float(r.mean_delta)) if not missing(r.mean_delta) else 0.0,
                inp.rank(inp.arms, r.arm),
            )
        )
        table = []
        for r in rows:
            a, b = inp.arm_levels.get(str(r.arm), {}), inp.arm_levels.get(str(r.baseline), {})
            change = ", ".join(f"{axis}: {b.get(axis)} → {a.get(axis)}" for axis in changed if axis in inp.axes)
            held = ", ".join(f"{axis}={a.get(axis)}" for axis in inp.axes if axis not in changed)
            table.append(
                [
                    str(r.arm),
                    change or f"{r.baseline} → {r.arm}",
                    held or DASH,
                    integer(r.n_pairs),
                    with_ci(r.mean_delta, r.ci_low, r.ci_high, inp.primary, sign=True),
                    _impact(r.mean_delta, inp.primary),
                    str(r.label),
                ]
            )
        blocks.append(Heading(3, f"{' + '.join(changed)} on {es}"))
        blocks.append(
            Table(
                ["arm", "change", "held", "pairs", f"Δ{metric_label(inp.primary)} [interval]", "impact", "label"],
                table,
                align="lllrrrl",
                caption=f"{metric_label(inp.primary)} on `{es}`: each arm minus its baseline arm; the largest change first.",
            )
        )
    return blocks


def factors_section(inp: Inputs) -> list:
    blocks: list = [Heading(2, "Factor effects")]
    frame = inp.frames["factors"]
    if frame.empty:
        blocks.append(Paragraph("No factor effects (no axis with a second level was compared).", kind="note"))
    else:

        def key(r):
            levels = [str(x) for x in inp.axes.get(str(r.axis), [])]
            return (
                inp.metric_rank(str(r.metric)),
                inp.rank(list(inp.axes), r.axis),
                inp.rank(levels, r.level),
                inp.rank(inp.eval_order, r.eval_set),
            )

        rows = [
            [
                str(r.axis),
                str(r.level),
                str(r.reference),
                str(r.eval_set),
                metric_label(str(r.metric)),
                integer(r.n_arms),
                integer(r.n_pairs),
                num(r.mean_delta, str(r.metric), sign=True),
                num(r.sd_delta, str(r.metric)),
            ]
            for r in sorted(frame.itertuples(index=False), key=key)
        ]
        blocks.append(
            Table(
                ["axis", "level", "reference", "eval set", "metric", "arms", "pairs", "mean Δ", "sd Δ"],
                rows,
                align="lllllrrrr",
                caption="The mean paired delta of each level of an axis against "
                "the axis's reference level, over the arms and seeds that differ only there.",
            )
        )
    blocks.append(Heading(3, "Interaction"))
    axes = list(inp.axes)
    if len(axes) < 2:
        return blocks + [Paragraph("One axis only: no interaction table.", kind="note")]
    first, second = axes[:2]
    averaged = False
    for es in inp.eval_order:
        rows = []
        for l1 in inp.axes[first]:
            row = [str(l1)]
            for l2 in inp.axes[second]:
                arms = [a for a, lv in inp.arm_levels.items() if lv.get(first) == l1 and lv.get(second) == l2]
                found = [inp.summary[(a, es, inp.primary)] for a in arms if (a, es, inp.primary) in inp.summary]
                means = [float(r.mean) for r in found if not missing(r.mean)]
                if len(found) == 1:
                    row.append(with_ci(found[0].mean, found[0].ci_low, found[0].ci_high, inp.primary))
                elif means:
                    averaged = True
                    row.append(num(sum(means) / len(means), inp.primary))
                else:
                    row.append(DASH)
            rows.append(row)
        blocks.append(
            Table(
                [f"{first} \\ {second}", *map(str, inp.axes[second])],
                rows,
                align="l" + "r" * len(inp.axes[second]),
                caption=f"Mean {metric_label(inp.primary)} on `{es}` [interval].",
            )
        )
    if averaged:
        blocks.append(
            Paragraph(
                "Where several arms share a cell (more than two axes), the cell is the mean of "
                "their means, without an interval.",
                kind="note",
            )
        )
    return blocks


def criteria_section(inp: Inputs) -> list:
    blocks: list = [Heading(2, "Success criteria")]
    frame = inp.frames["criteria"]
    if frame.empty:
        return blocks + [Paragraph("No success criteria were given.", kind="note")]
    criteria = list(dict.fromkeys(str(c) for c in frame["criterion"]))
    cells = {(str(r.arm), str(r.criterion)): r for r in frame.itertuples(index=False)}
    rows = []
    for arm in [a for a in inp.arms if any((a, c) in cells for c in criteria)]:
        row, verdicts = [arm], []
        for criterion in criteria:
            r = cells.get((arm, criterion))
            if r is None or missing(r.passed):
                verdicts.append(None)
                row.append(f"{DASH} no finished run" if r is not None else DASH)
                continue
            verdicts.append(bool(r.passed))
            text = f"{'✓' if bool(r.passed) else '✗'} {with_ci(r.value, r.ci_low, r.ci_high, str(r.metric))}"
            if not missing(r.seeds_passed):
                text += f", {int(r.seeds_passed)}/{integer(r.n_seeds)} seeds"
            row.append(text)
        row.append("✗" if False in verdicts else ("✓" if verdicts and all(verdicts) else DASH))
        rows.append(row)
    return blocks + [
        Table(
            ["arm", *criteria, "all"],
            rows,
            align="l" + "l" * len(criteria) + "l",
            caption="✓ passed, ✗ failed, — not judged; judged on the mean over seeds [interval], "
            "with the seeds that pass on their own.",
        )
    ]
