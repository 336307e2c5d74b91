"""The experiment report: sections in order, numbers as the tables hold them, ablation order, failed runs, criteria,
the same tables in Markdown and HTML, plots written and linked, same bytes twice, missing values and empty tables."""

from __future__ import annotations

import base64
import math
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from hardneg._schema import (
    ARM_SUMMARY_COLUMNS,
    COMPARISON_COLUMNS,
    CRITERIA_COLUMNS,
    EXPERIMENT_RESULT_COLUMNS,
    FACTOR_COLUMNS,
    RUN_STATUS_COLUMNS,
)
from hardneg.errors import InputError
from hardneg.report import Document, Image, experiment_document, write_experiment_report

NEGATIVES, POSITIVES, SEEDS = ["none", "t50", "t85"], ["all", "half"], [0, 1, 2, 3, 4]
ARMS = {f"{n}|{p}": {"negatives": n, "positives": p} for n in NEGATIVES for p in POSITIVES}
FAILED = ("t85|half", 3)
ERROR = 'Traceback (most recent call last):\n  File "train.py", line 3\nRuntimeError: out of memory on seed 3'
METRICS = {"iid": ("f1", "precision", "recall"), "ood": ("f1", "precision", "recall", "fa_per_hour")}
SECTIONS = [
    "What was run",
    "Results",
    "Comparisons",
    "Ablation (sorted by impact)",
    "Factor effects",
    "Success criteria",
    "Figures",
    "Runs",
    "How to read this",
]


def make_meta() -> dict:
    return {
        "experiment": "/data/exp/negatives.yaml",
        "dataset": "shots",
        "axes": {"negatives": list(NEGATIVES), "positives": list(POSITIVES)},
        "baseline": {"negatives": "none"},
        "arms": {arm: dict(levels) for arm, levels in ARMS.items()},
        "seeds": list(SEEDS),
        "eval_sets": {
            "iid": {"kind": "iid", "description": "held-out groups drawn per seed", "timeline": False},
            "ood": {"kind": "ood", "description": "other recordings", "timeline": True},
        },
        "model": "et",
        "primary_metric": "f1",
        "metrics": ["f1", "precision", "recall", "fa_per_hour"],
        "alpha": 0.05,
        "label_rule": "significant: Holm p < 0.05 and the interval excludes 0.",
        "holm_family": "every comparison of one metric on one evaluation set.",
        "interval": "95% over seeds and new test groups.",
        "n_resamples": 1000,
        "notes": ["incomplete grid: 1 run failed; comparisons use the complete pairs"],
    }


def make_results() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for i, (arm, levels) in enumerate(ARMS.items()):
        for seed in SEEDS:
            if (arm, seed) == FAILED:
                continue
            for eval_set, metrics in METRICS.items():
                for metric in metrics:
                    if metric == "fa_per_hour":
                        value = 3.0 + i * 0.7 - 0.2 * seed + rng.normal(0, 0.3)
                    else:
                        value = 0.5 + 0.04 * i * (1 if i % 2 else -1) + 0.01 * seed + rng.normal(0, 0.01)
                    rows.append((arm, levels["negatives"], levels["positives"], seed, eval_set, metric, value))
    columns = ["arm", "negatives", "positives", *EXPERIMENT_RESULT_COLUMNS[1:]]
    return pd.DataFrame(rows, columns=columns)


def make_summary(results: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (arm, eval_set, metric), group in results.groupby(["arm", "eval_set", "metric"], sort=False):
        values = group["value"].to_numpy()
        mean, sd = float(values.mean()), float(values.std(ddof=1))
        rows.append((arm, eval_set, metric, len(values), mean, sd, mean - sd, mean + sd, "new groups"))
    return pd.DataFrame(rows, columns=list(ARM_SUMMARY_COLUMNS))


def make_comparisons(results: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for arm, levels in ARMS.items():
        if levels["negatives"] == "none":
            continue
        baseline = f"none|{levels['positives']}"
        for eval_set, metrics in METRICS.items():
            for metric in metrics:
                own = results[(results.eval_set == eval_set) & (results.metric == metric)]
                a = own[own.arm == arm].set_index("seed")["value"]
                b = own[own.arm == baseline].set_index("seed")["value"]
                common = sorted(set(a.index) & set(b.index))
                deltas = (a[common] - b[common]).to_numpy()
                mean, half = float(deltas.mean()), 2.0 * float(deltas.std(ddof=1)) / math.sqrt(len(deltas))
                p = 0.0625 if len(deltas) == 5 else 0.125
                excludes = mean - half > 0 or mean + half < 0
                label = "directional" if excludes else "no effect"
                needed = pd.NA if arm == "t50|half" else 9
                unpaired = len(set(a.index) ^ set(b.index))
                rows.append(
                    (arm, baseline, eval_set, metric, len(common), mean, mean - half, mean + half, p, min(1.0, 4 * p),
                     label, needed, unpaired, p / 2, False, "new groups")
                )  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    frame["seeds_needed"] = frame["seeds_needed"].astype("Int64")
    # one comparison significant (with a reachable seed count) so the labels differ
    first = frame.index[(frame.arm == "t50|all") & (frame.eval_set == "iid") & (frame.metric == "f1")][0]
    frame.loc[first, ["label", "reachable", "p_holm", "n_pairs"]] = ["significant", True, 0.01, 8]
    return frame


def make_criteria(summary: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for arm in ARMS:
        for criterion, eval_set, metric, op, target in (
            ("iid.recall >= 0.5", "iid", "recall", ">=", 0.5),
            ("ood.fa_per_hour <= 5", "ood", "fa_per_hour", "<=", 5.0),
        ):
            s = summary[(summary.arm == arm) & (summary.eval_set == eval_set) & (summary.metric == metric)].iloc[0]
            passed = s["mean"] >= target if op == ">=" else s["mean"] <= target
            rows.append(
                (arm, criterion, eval_set, metric, op, target, s["mean"], s["ci_low"], s["ci_high"], bool(passed),
                 3, int(s["n_seeds"]))
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(CRITERIA_COLUMNS))


def make_runs() -> pd.DataFrame:
    rows = []
    for arm in ARMS:
        for seed in SEEDS:
            if (arm, seed) == FAILED:
                rows.append((arm, seed, "failed", 1.5, ERROR))
            else:
                rows.append((arm, seed, "resumed" if (arm, seed) == ("t50|all", 0) else "done", 2.25, None))
    return pd.DataFrame(rows, columns=list(RUN_STATUS_COLUMNS))


def make_tables() -> dict[str, pd.DataFrame]:
    results = make_results()
    summary = make_summary(results)
    factors = pd.DataFrame(
        [("negatives", "t50", "none", "iid", "f1", 2, 10, 0.02, 0.01), ("negatives", "t85", "none", "iid", "f1", 2, 9,
          -0.05, 0.02), ("positives", "half", "all", "iid", "f1", 3, 14, 0.001, 0.005)],
        columns=list(FACTOR_COLUMNS),
    )  # fmt: skip
    return {
        "results": results,
        "summary": summary,
        "comparisons": make_comparisons(results),
        "criteria": make_criteria(summary),
        "factors": factors,
        "runs": make_runs(),
    }


@pytest.fixture(scope="module")
def tables():
    return make_tables()


@pytest.fixture(scope="module")
def written(tables, tmp_path_factory):
    out = tmp_path_factory.mktemp("experiment")
    md, html = write_experiment_report(out, tables, make_meta())
    return out, md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")


# ----------------------------------------------------------------- parsing helpers
def md_section(markdown: str, heading: str) -> str:
    """The Markdown under ``heading`` up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = markdown.splitlines()
    start = lines.index(heading) + 1
    end = next(
        (i for i in range(start, len(lines)) if re.match(rf"#{{1,{level}}} ", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start:end])


def md_tables(markdown: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells (header first), pipes unescaped."""
    tables, current = [], None
    for line in markdown.splitlines():
        if line.startswith("| "):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            current = current if current is not None else []
            current.append(cells)
        elif line.startswith("|") and current is not None:
            continue  # the rule under the header
        elif current is not None:
            tables.append(current)
            current = None
    if current is not None:
        tables.append(current)
    return tables


def as_dicts(table: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(table[0], row, strict=True)) for row in table[1:]]


class _HtmlTables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.row, self.cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr":
            self.tables[-1].append(self.row)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(page: str) -> list[list[list[str]]]:
    parser = _HtmlTables()
    parser.feed(page)
    return parser.tables


def headings(markdown: str, level: int = 2) -> list[str]:
    prefix = "#" * level + " "
    return [line[len(prefix) :] for line in markdown.splitlines() if line.startswith(prefix)]


# ----------------------------------------------------------------- tests
def test_sections_in_order(written):
    _, markdown, page = written
    assert headings(markdown) == SECTIONS
    assert re.findall(r"<h2 id=\"[^\"]+\">([^<]+)</h2>", page) == SECTIONS
    assert markdown.startswith("# Experiment: negatives\n")


def test_what_was_run_counts_runs_and_names_eval_sets(written):
    _, markdown, _ = written
    text = md_section(markdown, "## What was run")
    assert "Runs: 28 done, 1 resumed (finished before, not redone), 1 failed, of 30." in text
    assert "Evaluation set `ood` (ood, windows and timelines): other recordings." in text
    assert "Evaluation set `iid` (iid, windows): held-out groups drawn per seed." in text
    assert "Axis `negatives`: `none`, `t50`, `t85`." in text


def test_results_cells_are_the_summary_numbers(written, tables):
    _, markdown, _ = written
    [table] = md_tables(md_section(markdown, "## Results"))
    rows = {row["arm"]: row for row in as_dicts(table)}
    assert list(rows) == list(ARMS)
    assert table[0][:2] == ["arm", "seeds"]
    assert "iid FA/h" not in table[0] and "ood FA/h" in table[0]
    for s in tables["summary"].itertuples():
        digits = 1 if s.metric == "fa_per_hour" else 3
        label = {"f1": "F1", "fa_per_hour": "FA/h"}.get(s.metric, s.metric)
        expected = f"{s.mean:.{digits}f} [{s.ci_low:.{digits}f}, {s.ci_high:.{digits}f}]"
        assert rows[s.arm][f"{s.eval_set} {label}"] == expected
    assert rows["t85|half"]["seeds"] == "4/5" and rows["none|all"]["seeds"] == "5/5"
    comparisons = tables["comparisons"]
    for arm in ARMS:
        for eval_set in ("iid", "ood"):
            cell = rows[arm][f"{eval_set} ΔF1 vs baseline"]
            if arm.startswith("none|"):
                assert cell == "baseline"
                continue
            c = comparisons[
                (comparisons.arm == arm) & (comparisons.eval_set == eval_set) & (comparisons.metric == "f1")
            ]
            c = c.iloc[0]
            assert cell == f"{c.mean_delta:+.3f} [{c.ci_low:+.3f}, {c.ci_high:+.3f}] {c.label}"


def test_comparisons_primary_first_with_seed_notes(written, tables):
    _, markdown, _ = written
    section = md_section(markdown, "## Comparisons")
    [table] = md_tables(section)
    rows = as_dicts(table)
    assert len(rows) == len(tables["comparisons"])
    metrics = [row["metric"] for row in rows]
    assert metrics[: metrics.count("F1")] == ["F1"] * metrics.count("F1")
    first = rows[0]
    assert (first["arm"], first["eval set"], first["label"], first["Holm p"]) == (
        "t50|all",
        "iid",
        "significant",
        "0.01",
    )
    failed = next(r for r in rows if r["arm"] == "t85|half" and r["eval set"] == "iid" and r["metric"] == "F1")
    assert failed["pairs"] == "4" and failed["Wilcoxon p"] == "0.125" and failed["seeds needed"] == "9"
    assert next(r for r in rows if r["arm"] == "t50|half")["seeds needed"] == "—"
    notes = [line for line in section.splitlines() if line.startswith("> - ")]
    c = tables["comparisons"]
    unreachable = c[~c.reachable.astype(bool)]
    assert notes[0].startswith(
        "> - With 4 paired seeds a two-sided Wilcoxon test cannot go below p = 0.125: run at least 6 seeds. "
        f"This holds for {(unreachable.n_pairs == 4).sum()} comparisons: `t85|half` vs `none|half` (iid F1), "
        "`t85|half` vs `none|half` (ood F1), "
    )
    assert notes[1].startswith(
        "> - With 5 paired seeds a two-sided Wilcoxon test cannot go below p = 0.0625: run at least 6 seeds. "
        f"This holds for {(unreachable.n_pairs == 5).sum()} comparisons: "
    )
    assert notes[1].endswith(f" and {(unreachable.n_pairs == 5).sum() - 6} more.")
    power = [n for n in notes if "at 80 % power" in n]
    expected = c[(c.metric == "f1") & (c.label != "significant") & c.seeds_needed.notna()]
    assert len(power) == len(expected) == 5
    assert "> - `t85|all` vs `none|all` (iid F1): an effect of this size needs about 9 seeds at 80 % power." in power
    assert not any("`t50|all` vs `none|all` (iid F1)" in n for n in notes)  # significant and reachable
    assert notes[-1] == "> - `t85|half` vs `none|half`: 1 seed without a partner left out."


def test_ablation_sorted_by_absolute_delta(written, tables):
    _, markdown, _ = written
    section = md_section(markdown, "## Ablation (sorted by impact)")
    assert headings(section, 3) == ["negatives on iid", "negatives on ood"]
    c = tables["comparisons"]
    for eval_set in ("iid", "ood"):
        [table] = md_tables(md_section(section, f"### negatives on {eval_set}"))
        own = c[(c.eval_set == eval_set) & (c.metric == "f1")]
        expected = [arm for _, arm in sorted((-abs(d), arm) for arm, d in zip(own.arm, own.mean_delta, strict=True))]
        rows = as_dicts(table)
        assert [row["arm"] for row in rows] == expected
        for row in rows:
            d = float(own[own.arm == row["arm"]].mean_delta.iloc[0])
            assert row["impact"] == f"{d * 100:+.1f} points"
            assert row["change"] == f"negatives: none → {row['arm'].split('|')[0]}"
            assert row["held"] == f"positives={row['arm'].split('|')[1]}"


def test_factors_and_interaction(written, tables):
    _, markdown, _ = written
    section = md_section(markdown, "## Factor effects")
    factors, iid, ood = md_tables(section)
    assert [row["level"] for row in as_dicts(factors)] == ["t50", "t85", "half"]
    assert as_dicts(factors)[1]["mean Δ"] == "-0.050" and as_dicts(factors)[1]["sd Δ"] == "0.020"
    summary = tables["summary"]
    for eval_set, table in (("iid", iid), ("ood", ood)):
        assert table[0] == ["negatives \\ positives", "all", "half"]
        for row in table[1:]:
            for positives, cell in zip(POSITIVES, row[1:], strict=True):
                s = summary[
                    (summary.arm == f"{row[0]}|{positives}") & (summary.eval_set == eval_set) & (summary.metric == "f1")
                ].iloc[0]
                assert cell == f"{s['mean']:.3f} [{s.ci_low:.3f}, {s.ci_high:.3f}]"


def test_criteria_marks_match_the_rule(written, tables):
    _, markdown, _ = written
    [table] = md_tables(md_section(markdown, "## Success criteria"))
    rows = {row["arm"]: row for row in as_dicts(table)}
    marks = set()
    for c in tables["criteria"].itertuples():
        ok = c.value >= c.target if c.op == ">=" else c.value <= c.target
        cell = rows[c.arm][c.criterion]
        digits = 1 if c.metric == "fa_per_hour" else 3
        assert (
            cell
            == f"{'✓' if ok else '✗'} {c.value:.{digits}f} [{c.ci_low:.{digits}f}, {c.ci_high:.{digits}f}], "
            + (f"3/{c.n_seeds} seeds")
        )
        marks.add(ok)
    assert marks == {True, False}  # the fixture exercises both
    for arm, row in rows.items():
        own = tables["criteria"][tables["criteria"].arm == arm]
        assert row["all"] == ("✓" if own.passed.all() else "✗")


def test_failed_run_is_shown_with_its_error(written):
    _, markdown, _ = written
    section = md_section(markdown, "## Runs")
    [table] = md_tables(section)
    rows = {row["arm"]: row for row in as_dicts(table)}
    assert rows["t85|half"]["seed 3"] == "**failed**: RuntimeError: out of memory on seed 3"
    assert rows["t50|all"]["seed 0"] == "resumed" and rows["none|all"]["seed 4"] == "done"
    assert rows["t85|half"]["time (s)"] == f"{4 * 2.25 + 1.5:.1f}"
    assert "> - `t85|half` seed 3 failed: RuntimeError: out of memory on seed 3" in section


def test_html_and_markdown_hold_the_same_tables(written):
    _, markdown, page = written
    from_md = [[[re.sub(r"\*\*|`", "", cell) for cell in row] for row in table] for table in md_tables(markdown)]
    from_html = html_tables(page)
    assert len(from_md) == len(from_html) >= 9
    assert from_md == from_html


def test_plots_written_and_linked(written):
    out, markdown, page = written
    names = sorted(p.name for p in (out / "plots").iterdir())
    assert names == ["forest_all.png", "forest_f1.png", "seeds_f1.png"]
    for name in names:
        data = (out / "plots" / name).read_bytes()
        assert data.startswith(b"\x89PNG")
        assert f"](plots/{name})" in markdown
        assert base64.b64encode(data).decode("ascii") in page
        assert b"tIME" not in data and b"Software" not in data


def test_same_inputs_same_bytes(tables, tmp_path):
    outputs = []
    for name in ("a", "b"):
        write_experiment_report(tmp_path / name, tables, make_meta())
        outputs.append({p.relative_to(tmp_path / name): p.read_bytes() for p in (tmp_path / name).rglob("*.*")})
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) == 5


def test_missing_values_print_as_dash(tables):
    tables = {name: frame.copy() for name, frame in tables.items()}
    summary = tables["summary"]
    summary.loc[(summary.arm == "t50|all") & (summary.eval_set == "iid") & (summary.metric == "f1"), "mean"] = np.nan
    summary.loc[(summary.arm == "t50|all") & (summary.eval_set == "iid") & (summary.metric == "recall"), "ci_low"] = (
        np.nan
    )
    criteria = tables["criteria"].astype({"passed": "object", "seeds_passed": "object"})
    criteria.loc[criteria.arm == "t85|all", ["passed", "value", "seeds_passed"]] = [pd.NA, np.nan, pd.NA]
    tables["criteria"] = criteria
    comparisons = tables["comparisons"]
    comparisons.loc[comparisons.arm == "t85|all", ["mean_delta", "wilcoxon_p"]] = [np.nan, np.nan]
    markdown = experiment_document(tables, make_meta()).markdown()
    rows = {r["arm"]: r for r in as_dicts(md_tables(md_section(markdown, "## Results"))[0])}
    assert rows["t50|all"]["iid F1"] == "—"
    recall = summary[(summary.arm == "t50|all") & (summary.eval_set == "iid") & (summary.metric == "recall")]
    assert rows["t50|all"]["iid recall"] == f"{recall['mean'].iloc[0]:.3f}"
    assert rows["t85|all"]["iid ΔF1 vs baseline"].startswith("— ")
    crit = {r["arm"]: r for r in as_dicts(md_tables(md_section(markdown, "## Success criteria"))[0])}
    assert crit["t85|all"]["iid.recall >= 0.5"] == "— no finished run" and crit["t85|all"]["all"] == "—"
    ablation = md_tables(md_section(markdown, "### negatives on iid"))[0]
    assert ablation[-1][0] == "t85|all" and ablation[-1][4] == "—"  # no delta sorts last


def test_single_arm_without_comparisons_criteria_or_figures():
    results = make_results()
    results = results[results.arm == "none|all"]
    tables = {"results": results, "summary": make_summary(results), "runs": make_runs().query("arm == 'none|all'")}
    meta = make_meta() | {"axes": {"negatives": ["none"]}, "arms": {"none|all": {"negatives": "none"}}, "notes": []}
    doc = experiment_document(tables, meta)
    markdown = doc.markdown()
    assert headings(markdown) == SECTIONS
    assert not any(isinstance(b, Image) for b in doc.blocks)
    assert "No comparisons" in md_section(markdown, "## Comparisons")
    assert "No success criteria were given." in markdown
    assert "One axis only: no interaction table." in markdown
    assert "Every run finished." in markdown
    [results_table] = md_tables(md_section(markdown, "## Results"))
    assert results_table[0] == ["arm", "seeds", "iid F1", "iid precision", "iid recall", "ood F1", "ood precision",
                                "ood recall", "ood FA/h"]  # fmt: skip


def test_single_arm_figures_say_there_is_nothing_to_compare(tmp_path):
    results = make_results().query("arm == 'none|all'")
    md, _ = write_experiment_report(tmp_path, {"results": results, "summary": make_summary(results)}, make_meta())
    text = md.read_text(encoding="utf-8")
    assert "Forest plot: no comparison to draw." in text
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["seeds_f1.png"]


def test_bad_tables_name_the_parameter(tables):
    with pytest.raises(InputError, match="summary") as caught:
        experiment_document({"summary": tables["summary"].drop(columns="ci_low")}, make_meta())
    assert caught.value.parameter == "tables"
    with pytest.raises(InputError, match="tables"):
        experiment_document({"runs": [1, 2]}, make_meta())
    assert isinstance(experiment_document({}, {}), Document)
