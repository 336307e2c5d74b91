"""write_bench_report: the files, the audit marks, the numbers, self-containment, determinism, full size.

Its speed at full size is timed in benchmarks/bench_unit_timings.py, not here.
"""

from __future__ import annotations

import base64
import re

import matplotlib
import numpy as np
import pytest
from tests.report.bench_synth import META, make_audits, make_results, make_scores
from scipy import stats

from hardneg.errors import InputError
from hardneg.report import write_bench_report

PLOTS = ("pr_curves", "roc_curves", "roc_log", "reliability", "score_histograms", "group_scores")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def md_tables(text: str) -> list[str]:
    """Each Markdown table with the caption line just above it."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|"):
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            caption = lines[start - 2] if start >= 2 and lines[start - 2].startswith("*") else ""
            blocks.append(caption + "\n" + "\n".join(lines[start:i]))
        i += 1
    return blocks


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    results, scores = make_results(), make_scores()
    md, html = write_bench_report(out, results, scores, make_audits(), META)
    return out, md, html, results


def test_files_exist(report):
    out, md, html, _ = report
    assert md == out / "report.md" and html == out / "report.html"
    for name in PLOTS:
        data = (out / "plots" / f"{name}.png").read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000
    text = md.read_text()
    for name in PLOTS:
        assert f"](plots/{name}.png)" in text
    assert not list(out.glob(".*tmp*")) and not list((out / "plots").glob(".*"))


def test_html_is_self_contained_and_embeds_the_plots(report):
    out, _, html, _ = report
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page and "<link" not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(PLOTS) and all(s.startswith("data:image/png;base64,") for s in sources)
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in sources}
    assert embedded == {(out / "plots" / f"{n}.png").read_bytes() for n in PLOTS}
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    ids = set(re.findall(r'id="([^"]*)"', page))
    assert {h[1:] for h in hrefs} <= ids


def test_untrustworthy_split_is_marked_at_the_top_and_in_every_table(report):
    _, md, html, _ = report
    text = md.read_text()
    audit = text.index("## Audit")
    assert text.index("Untrustworthy splits: `random`") < text.index("## Best model per split")
    assert audit < text.index("**group_confound** FAIL: The patient alone predicts the label with ROC AUC 0.97")
    assert "| random ⚠ | `group_confound` | group auc | 0.9712 |" in text  # the audit's numbers, as a table
    assert "## Split `random` ⚠ untrustworthy" in text
    tables = md_tables(text)
    assert len(tables) >= 9
    for table in tables:
        if "random" in table:
            assert "⚠" in table, table[:300]
    # The honest splits are not marked.
    assert "group ⚠" not in text and "time ⚠" not in text and "## Split `group`\n" in text
    assert html.read_text().count('class="table-wrap untrusted"') >= 6
    assert 'class="warn"' in html.read_text()


def test_table_numbers_match_numpy_and_scipy(tmp_path):
    """Under --ci-method seeds the intervals are a bootstrap of the mean over seeds x folds."""
    results = make_results()
    md, html = write_bench_report(tmp_path, results, make_scores(), make_audits(), META, ci_method="seeds")
    text, page = md.read_text(), html.read_text()
    test = results[results["subset"] == "test"].sort_values(["seed", "fold"])
    for split, model, features, metric in [
        ("group", "et", "rich", "average_precision"),
        ("random", "logreg", "summary", "ece"),
        ("time", "prior", "rich", "brier"),  # a baseline is shown once, with the first feature set on ties
    ]:
        values = test.query("split == @split and model == @model and features == @features and metric == @metric")
        values = values["value"].to_numpy()
        ci = stats.bootstrap(
            (values,), np.mean, n_resamples=2000, method="percentile", rng=np.random.default_rng(0)
        ).confidence_interval
        cell = f"{values.mean():.3f} [{ci.low:.3f}, {ci.high:.3f}]"
        assert cell in text and cell in page
    # The best combination of the group split and its paired gain over the best baseline.
    ap = test[test["metric"] == "average_precision"]
    means = ap[ap["split"] == "group"].groupby(["model", "features"])["value"].mean()
    models = means.drop(["prior", "stratified", "majority"], level="model")
    model, features = models.idxmax()
    section = text[text.index("## Best model per split") : text.index("## Inflation")]
    headline = next(line for line in section.splitlines() if line.startswith("| group |"))
    assert f"{model} · {features}" in headline
    base = ap[(ap["split"] == "group") & ap["model"].isin(["prior", "stratified", "majority"])]
    name = base.groupby("model")["value"].mean().idxmax()
    base = base[base["model"] == name].groupby(["seed", "fold"])["value"].mean()
    combo = ap.query("split == 'group' and model == @model and features == @features").set_index(["seed", "fold"])
    diffs = (combo["value"].sort_index() - base).to_numpy()
    ci = stats.bootstrap(
        (diffs,), np.mean, n_resamples=2000, method="percentile", rng=np.random.default_rng(0)
    ).confidence_interval
    assert f"{diffs.mean():+.3f} [{ci.low:+.3f}, {ci.high:+.3f}] vs {name}" in headline


def test_inflation_table_puts_random_next_to_the_honest_split(tmp_path):
    results = make_results()
    md, _ = write_bench_report(tmp_path, results, make_scores(), make_audits(), META, ci_method="seeds")
    text = md.read_text()
    assert "Reference: `group`" in text
    section = text[text.index("## Inflation") : text.index("## Split `random`")]
    row = next(line for line in section.splitlines() if line.startswith("| et | rich |"))
    test = results[(results["subset"] == "test") & (results["metric"] == "average_precision")]
    for split in ("random", "group", "time"):
        mean = test.query("split == @split and model == 'et' and features == 'rich'")["value"].mean()
        assert f"{mean:.3f} [" in row
    a = test.query("split == 'random' and model == 'et' and features == 'rich'")["value"].mean()
    b = test.query("split == 'group' and model == 'et' and features == 'rich'")["value"].mean()
    assert f"{a - b:+.3f} [" in row
    assert "| random ⚠ AP | group AP | time AP | Δ random ⚠ − group | Δ time − group |" in section


def test_same_inputs_same_bytes_and_row_order_does_not_matter(tmp_path):
    results, scores, audits = make_results(n_seeds=3), make_scores(n_seeds=2), make_audits()
    first = write_bench_report(tmp_path / "a", results, scores, audits, META)
    shuffled = results.sample(frac=1.0, random_state=1)
    scores_shuffled = scores.sample(frac=1.0, random_state=2)
    second = write_bench_report(tmp_path / "b", shuffled, scores_shuffled, audits, META)
    for x, y in zip(first, second):
        assert x.read_bytes() == y.read_bytes()
    for name in PLOTS:
        assert (tmp_path / "a/plots" / f"{name}.png").read_bytes() == (
            tmp_path / "b/plots" / f"{name}.png"
        ).read_bytes()


def test_leaves_matplotlib_state_alone(tmp_path):
    backend = matplotlib.get_backend()
    matplotlib.rcParams["lines.linewidth"] = 7.0
    try:
        write_bench_report(tmp_path, make_results(n_seeds=2, splits=("group",)), make_scores(n_seeds=1), None, {})
        assert matplotlib.get_backend() == backend
        assert matplotlib.rcParams["lines.linewidth"] == 7.0
    finally:
        matplotlib.rcParams["lines.linewidth"] = matplotlib.rcParamsDefault["lines.linewidth"]


def test_without_scores_or_audits(tmp_path):
    md, html = write_bench_report(tmp_path, make_results(n_seeds=2), None, None, None)
    text = md.read_text()
    assert "no plots" in text and "Not audited: `group`, `random`, `time`" in text
    assert "⚠" not in text and "data:image" not in html.read_text()
    assert not (tmp_path / "plots").exists()


def test_small_samples_use_plain_percentiles(tmp_path):
    results = make_results(n_seeds=2, n_folds=1, splits=("group", "random"))
    md, _ = write_bench_report(tmp_path, results, None, make_audits(), {})
    values = (
        results.query(
            "subset == 'test' and split == 'group' and model == 'mlp' and features == 'rich' and metric == 'roc_auc'"
        )
        .sort_values("seed")["value"]
        .to_numpy()
    )
    low, high = np.percentile(values, [2.5, 97.5])
    assert f"{values.mean():.3f} [{low:.3f}, {high:.3f}]" in md.read_text()
    assert "cover seeds x folds only" in md.read_text()


def test_every_split_failing_leaves_no_reference(tmp_path):
    audits = make_audits()
    for audit in audits.values():
        audit["checks"].append({"check": "near_duplicates", "verdict": "FAIL", "numbers": {}, "explanation": "dups"})
    md, _ = write_bench_report(tmp_path, make_results(n_seeds=2), None, audits, META)
    text = md.read_text()
    assert "Every split failed its audit" in text and "Δ random" not in text
    assert "## Split `group` ⚠ untrustworthy" in text


def test_reference_split_from_meta(tmp_path):
    md, _ = write_bench_report(tmp_path, make_results(n_seeds=2), None, make_audits(), {"reference_split": "time"})
    assert "Reference: `time`, given as the reference" in md.read_text()
    with pytest.raises(InputError, match="reference_split"):
        write_bench_report(tmp_path, make_results(n_seeds=2), None, make_audits(), {"reference_split": "nope"})


def test_bad_input(tmp_path):
    results = make_results(n_seeds=1, splits=("group",))
    with pytest.raises(InputError, match="label"):
        write_bench_report(tmp_path, results, make_scores(n_seeds=1).drop(columns=["label"]), None, {})
    with pytest.raises(InputError, match="subset 'test'"):
        write_bench_report(tmp_path, results[results["subset"] == "val"], None, None, {})
    with pytest.raises(InputError, match="audit of split 'group'"):
        write_bench_report(tmp_path, results, None, {"group": ["FAIL"]}, {})
    assert not (tmp_path / "report.md").exists()


def test_many_groups_are_capped(tmp_path):
    scores = make_scores(n_windows=300, n_seeds=1, n_folds=1, splits=("group",), n_groups=60)
    results = make_results(n_seeds=2, splits=("group",))
    _md, _ = write_bench_report(tmp_path, results, scores, None, {}, max_groups=10, max_plot_points=150)
    assert (tmp_path / "plots" / "group_scores.png").read_bytes().startswith(PNG_MAGIC)


def test_full_size_bench_reports(tmp_path):
    # 30 seeds x 6 models x 2 feature sets x 3 splits = 1080 combinations x 12 metrics x 2 subsets,
    # and 50,400 score rows: the demo benchmark's size.
    results = make_results(n_seeds=30, n_folds=1)
    scores = make_scores(n_windows=1400, n_seeds=1, n_folds=1)
    assert len(results) == 25_920 and len(scores) == 50_400
    write_bench_report(tmp_path, results, scores, make_audits(), META)


def test_runner_meta_keys(tmp_path):
    meta = {
        "dataset": "ds",
        "dataset_windows": 200,
        "dataset_counts": {"windows": 200, "positives": 50},
        "models": ["logreg"],
        "features": ["summary"],
        "splits": ["group", "random"],
        "seeds": 2,
        "jobs": 2,
        "seconds": 3.25,
        "split_measures": {"group": "new patients"},
        "baselines": ["prior", "stratified", "majority"],
        "combinations": 48,
    }
    md, _ = write_bench_report(tmp_path, make_results(n_seeds=2, splits=("random", "group")), None, make_audits(), meta)
    text = md.read_text()
    assert "Dataset: `ds`. 200 windows, 50 positives." in text
    assert "**Seeds**: 2." in text and "**Timings**: total 3.2 s." in text
    assert "| group | PASS | — | — | new patients |" in text
    assert text.index("## Split `group`") < text.index("## Split `random`")  # meta["splits"] order
    assert "## Run details" in text and "`combinations`: 48" in text and "`seconds`" not in text


def test_cluster_intervals_are_what_the_cluster_bootstrap_gives(report):
    """By default every interval comes from resampling the test groups; the point is the mean over seeds."""
    from sklearn.metrics import average_precision_score

    from hardneg.stats import cluster_bootstrap

    _, md, _, _ = report
    text = md.read_text()
    scores = make_scores()
    part = scores.query("split == 'group' and model == 'et' and features == 'rich' and subset == 'test'")
    # make_scores scores every window in each of two folds: a window's score is the mean over its folds
    pooled = part.groupby(["seed", "window_id"], sort=True).agg(score=("score", "mean"), label=("label", "first"),
                                                                group=("group", "first"))
    matrix = pooled["score"].unstack("window_id").to_numpy()
    labels = pooled.xs(0, level="seed")["label"].to_numpy()
    groups = pooled.xs(0, level="seed")["group"].to_numpy()
    point = np.mean([average_precision_score(labels, row) for row in matrix])
    found = cluster_bootstrap(labels, matrix, groups, metric="average_precision", n_resamples=1000)
    assert found.value == pytest.approx(point, abs=1e-12)
    section = text[text.index("## Split `group`") : text.index("## Split `time`")]
    row = next(line for line in section.splitlines() if line.startswith("| et | rich |"))
    assert f"{point:.3f} [{found.low:.3f}, {found.high:.3f}]" in row
    assert "The 95% intervals cover new groups drawn like the 8 test groups, and seeds" in text
