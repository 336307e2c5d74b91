"""run_audit over every check, and the JSON and Markdown files of write_audit."""

import json

import numpy as np
import pytest

from hardneg.audit import CHECKS, AuditContext, run_audit, write_audit


@pytest.fixture
def leaky(build):
    """A random window split of confounded, densely overlapping windows, with predictions."""
    prevalence = np.linspace(0.05, 0.6, 6)
    index = build.grid_index(
        n_recordings=6, per_recording=100, spacing_ms=250.0, window_ms=500.0, prevalence=prevalence
    )
    rng = np.random.default_rng(0)
    codes = index["recording"].str[3:].astype(int).to_numpy()
    windows = (rng.standard_normal((len(index), 2, 40)) + rng.normal(0, 3, (6, 2, 1))[codes]).astype(np.float32)
    ds = build.dataset(index, windows)
    subsets = build.random_subsets(len(index), seed=0)
    labels = index["label"].to_numpy()
    scores = np.clip(0.5 + 0.3 * (labels - 0.5) + 0.15 * rng.standard_normal(len(labels)), 0, 1)
    return ds, build.frame(subsets), build.predictions(scores)


def test_every_check_reports_and_the_worst_verdict_wins(leaky):
    ds, frame, predictions = leaky
    report = run_audit(AuditContext(ds, frame, {"name": "random", "strategy": "random"}, predictions=predictions))
    assert [r.check for r in report] == list(CHECKS)
    assert report.verdict == "FAIL" and report.failed
    for name in ("group_overlap", "temporal_overlap", "group_confound"):
        assert report[name].verdict == "FAIL", name
    for result in report:
        assert result.explanation and result.verdict in ("PASS", "WARN", "FAIL", "SKIP")


def test_without_predictions_the_model_checks_skip(leaky):
    ds, frame, _ = leaky
    report = run_audit(AuditContext(ds, frame, {"name": "random"}))
    skipped = {r.check for r in report if r.verdict == "SKIP"}
    assert skipped == {name for name, check in CHECKS.items() if check.needs_predictions}
    assert all("--predictions" in report[name].explanation for name in skipped)


def test_write_audit_files(leaky, tmp_path):
    ds, frame, predictions = leaky
    report = run_audit(AuditContext(ds, frame, {"name": "random"}, predictions=predictions))
    json_path, md_path = write_audit(
        report, tmp_path / "splits" / "random.audit.json", tmp_path / "splits" / "random.audit.md"
    )
    data = json.loads(json_path.read_text())  # strict JSON: NaN would not parse back as null here
    assert set(data) == {"split", "deployment", "checks", "verdict"}
    assert data["split"] == "random" and data["verdict"] == "FAIL"
    assert [c["check"] for c in data["checks"]] == list(CHECKS)
    for check in data["checks"]:
        assert set(check) == {"check", "verdict", "numbers", "explanation"}
    md = md_path.read_text()
    assert md.startswith("# Audit of split `random`")
    assert "| check | verdict | key numbers |" in md
    for name in CHECKS:
        assert f"| {name} |" in md and f"### {name}:" in md
    assert not list((tmp_path / "splits").glob(".*partial*"))
    text = report.to_text()
    assert text.splitlines()[0].startswith("check") and text.endswith("overall: FAIL")


def test_same_seed_same_bytes(leaky, tmp_path):
    ds, frame, predictions = leaky
    outputs = []
    for attempt in range(2):
        report = run_audit(AuditContext(ds, frame, {"name": "r"}, predictions=predictions, seed=3))
        json_path, _ = write_audit(report, tmp_path / f"{attempt}.json", tmp_path / f"{attempt}.md")
        outputs.append(json_path.read_bytes())
    assert outputs[0] == outputs[1]


def test_clean_group_split_passes_the_split_checks(build):
    # i.i.d. windows, equal prevalence, whole groups per subset, windows far apart
    index = build.grid_index(n_recordings=8, per_recording=80, spacing_ms=2000.0, window_ms=500.0, prevalence=0.3)
    ds = build.dataset(index)
    subsets = build.group_subsets(index["group"], test_groups=["g0", "g1"], val_groups=["g2", "g3"])
    report = run_audit(AuditContext(ds, build.frame(subsets), {"name": "group", "strategy": "group"}))
    for name in (
        "group_overlap",
        "temporal_overlap",
        "near_duplicates",
        "group_confound",
        "placement_shortcut",
        "class_balance",
    ):
        assert report[name].verdict == "PASS", (name, report[name].explanation)


def test_audit_split_reads_a_saved_split_and_writes_next_to_it(build, tmp_path):
    from hardneg.audit import audit_paths, audit_split
    from hardneg.errors import InputError
    from hardneg.split import save_split

    index = build.grid_index(n_recordings=6, per_recording=60, prevalence=0.3)
    ds = build.dataset(index)
    directory = tmp_path / "ds"
    directory.mkdir()
    _save_dataset(directory, ds)
    subsets = build.group_subsets(index["group"], test_groups=["g0", "g1"], val_groups=["g2"])
    save_split(directory, "by-group", build.frame(subsets), {"name": "by-group", "strategy": "group", "gap_ms": None})
    predictions = build.predictions(np.random.default_rng(0).random(len(index)))
    predictions.to_csv(tmp_path / "predictions.csv", index=False)

    report = audit_split(directory, "by-group", predictions=tmp_path / "predictions.csv")
    json_path, md_path = audit_paths(directory, "by-group")
    assert json_path == directory / "splits" / "by-group.audit.json" and md_path.is_file()
    assert json.loads(json_path.read_text())["verdict"] == report.verdict
    assert report["group_overlap"].verdict == "PASS"
    assert report["roc_below_chance"].verdict != "SKIP"
    with pytest.raises(InputError, match="predictions .*not found"):
        audit_split(directory, "by-group", predictions=tmp_path / "missing.parquet")


def _save_dataset(directory, ds):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(ds.index, preserve_index=False), directory / "index.parquet")
    np.save(directory / "windows.npy", ds.windows)
    (directory / "meta.json").write_text(json.dumps(ds.meta))


def test_markdown_bytes_are_the_audit_layout():
    # The layout NAME.audit.md has always had: cells and explanations as given (pipes escaped in cells), a plain
    # `---` rule, and no blank line at the end even when the last explanation is blank.
    from hardneg.audit import AuditReport, CheckResult

    report = AuditReport(
        [
            CheckResult("a_check", "FAIL", {"auc": 0.91234, "pair": "x|y"}, "Line one.\n\nLine  two."),
            CheckResult("b_check", "SKIP", {}, "Not applicable here. More words."),
            CheckResult("c_check", "PASS", {"n": 3}, "  \n"),
        ],
        split="s",
    )
    assert report.to_markdown() == (
        "# Audit of split `s`\n\nOverall verdict: **FAIL**\n\n| check | verdict | key numbers |\n|---|---|---|\n"
        "| a_check | **FAIL** | auc=0.912, pair=x\\|y |\n| b_check | SKIP | Not applicable here. |\n"
        "| c_check | PASS | n=3 |\n\n## Details\n\n### a_check: FAIL\n\nLine one.\n\nLine  two.\n\n"
        "### b_check: SKIP\n\nNot applicable here. More words.\n\n### c_check: PASS\n"
    )
