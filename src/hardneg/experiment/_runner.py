"""Run an experiment: build each arm's dataset, run every (arm, seed) in parallel or on Ray, analyse, report."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hardneg._atomic import write_bytes_atomic, write_parquet_atomic
from hardneg._progress import ProgressReporter, resolve
from hardneg._runs import RunFolder
from hardneg._schema import (
    COMPARISONS_FILE,
    CRITERIA_FILE,
    EXPERIMENT_STAMP_FILE,
    RESULTS_FILE,
    RUN_FAILED,
    RUN_METRICS_FILE,
    RUN_RESUMED,
    RUN_STATUS_COLUMNS,
    RUNS_DIR,
)
from hardneg._validation import Options, check_jobs, validate_value
from hardneg.errors import InputError
from hardneg.experiment._analysis import HOLM_FAMILY, LABEL_RULE, analyse
from hardneg.experiment._config import Experiment, load_experiment
from hardneg.experiment._run import RunSpec, execute_run, predictions_file

__all__ = ["ENGINES", "ExperimentResult", "run_experiment"]

ENGINES = ("local", "ray")
DATASETS_DIR = "datasets"
SUMMARY_FILE = "summary.parquet"
FACTORS_FILE = "factors.parquet"
RUN_TABLE_FILE = "runs.parquet"


@dataclass
class ExperimentResult:
    """What an experiment wrote: its tables (results, summary, comparisons, factors, criteria, runs) and meta."""

    experiment: Experiment
    tables: dict
    meta: dict
    out: Path

    @property
    def runs(self) -> pd.DataFrame:
        return self.tables["runs"]


def _code_digest(spec: str | None) -> str:
    if not spec or ".py:" not in spec:
        return ""
    path = Path(spec.rsplit(":", 1)[0])
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


def _arm_datasets(experiment: Experiment, out: Path, progress: ProgressReporter) -> dict[str, str | InputError]:
    """The dataset each arm trains on: the experiment's own, or its recipe rebuilt with the arm's sampling options.

    Arms with the same sampling options share one build; a build that fails fails only the arms that need it.
    """
    from hardneg.build import recipe_of

    wanted: dict[str, dict] = {}
    for arm in experiment.arms:
        if arm.sample:
            wanted[json.dumps(arm.sample, sort_keys=True)] = arm.sample
    built: dict[str, str | InputError] = {}
    if wanted:
        base_meta = (experiment.dataset / "meta.json").read_text()
        recipe = recipe_of(experiment.dataset)
        for key in progress.track(list(wanted), total=len(wanted), description="Building the arms' datasets"):
            folder = out / DATASETS_DIR / hashlib.sha1(f"{base_meta}|{key}".encode()).hexdigest()[:16]
            try:
                if not (folder / "index.parquet").is_file():
                    recipe.changed(**wanted[key]).build(folder, overwrite=True)
                built[key] = str(folder)
            except InputError as error:
                built[key] = error
    return {
        arm.name: built[json.dumps(arm.sample, sort_keys=True)] if arm.sample else str(experiment.dataset)
        for arm in experiment.arms
    }


def _execute_local(specs: list[RunSpec], jobs: int, progress: ProgressReporter, description: str) -> list[dict]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, return_as="generator_unordered", batch_size=1)
    calls = [delayed(_limited)(spec) for spec in specs]
    return list(progress.track(parallel(calls), total=len(calls), description=description))


def _limited(spec: RunSpec) -> dict:
    from threadpoolctl import threadpool_limits

    # One BLAS/OpenMP thread per run: --jobs spreads the runs over the cores.
    with threadpool_limits(1):
        return execute_run(spec)


def _execute_ray(specs: list[RunSpec], address: str | None, progress: ProgressReporter, description: str) -> list[dict]:
    """Each run a Ray task of one CPU; results come back as they finish."""
    from hardneg.mine import ray_session

    with ray_session(address) as ray:
        task = ray.remote(num_cpus=1)(_limited)
        pending = [task.remote(spec) for spec in specs]

        def finished():
            remaining = list(pending)
            while remaining:
                done, remaining = ray.wait(remaining, num_returns=1)
                yield ray.get(done[0])

        return list(progress.track(finished(), total=len(pending), description=description))


def run_experiment(
    experiment_file: str | Path,
    out: str | Path,
    *,
    jobs: int = 1,
    engine: str = "local",
    ray_address: str | None = None,
    overwrite: bool = False,
    progress: ProgressReporter | None = None,
) -> ExperimentResult:
    """Run every arm with every seed, skip the runs finished before, analyse the runs and write the report.

    Parameters
    ----------
    experiment_file : path
        The experiment file (YAML; :func:`hardneg.experiment.load_experiment`).
    out : path
        Output folder: ``runs/<arm>/<seed>/`` (``config.json``, ``<eval_set>.predictions.parquet``,
        ``metrics.json``, ``log.txt``, or ``error.txt`` for a failed run), ``datasets/`` (arms that rebuild the
        dataset), ``results.parquet``, ``summary.parquet``, ``comparisons.parquet``, ``factors.parquet``,
        ``criteria.parquet``, ``runs.parquet``, ``experiment.json``, ``report.md``, ``report.html``, ``plots/``.
        Run again with the same folder, it skips every finished run whose configuration is unchanged, retries
        failed ones and redoes changed ones.
    jobs : int
        Runs at a time (worker processes) with the local engine.
    engine : {"local", "ray"}
        ``ray`` runs each (arm, seed) as a Ray task, on a local Ray instance or the cluster at ``ray_address``.
    overwrite : bool
        Empty ``out`` first (every run is redone).

    Raises
    ------
    InputError
        For an unusable experiment file or folder, and when every run failed for the same reason.

    Examples
    --------
    Two arms (all positives, or half of them), 2 seeds, on a small synthetic dataset:

    >>> import tempfile, pathlib
    >>> from hardneg.demo import generate_world
    >>> from hardneg import InputOptions, build_dataset
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> world = generate_world(tmp / "world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=0)
    >>> _ = build_dataset(world.logs, tmp / "shots", inputs=InputOptions(events=world.events, groups=world.groups))
    >>> _ = (tmp / "experiment.yaml").write_text('''
    ... dataset: shots
    ... seeds: 2
    ... model: logreg
    ... n_resamples: 200
    ... baseline: {positives: all}
    ... arms: {positives: {all: {}, half: {fraction: 0.5}}}
    ... eval: {iid: {split: group}}
    ... ''')
    >>> result = run_experiment(tmp / "experiment.yaml", tmp / "out")
    >>> result.runs.status.tolist()
    ['done', 'done', 'done', 'done']
    >>> comparison = result.tables["comparisons"].query("metric == 'f1'")
    >>> comparison[["arm", "baseline", "eval_set", "n_pairs"]].values.tolist()
    [['half', 'all', 'iid', 2]]
    >>> run_experiment(tmp / "experiment.yaml", tmp / "out").runs.status.tolist()  # finished runs are skipped
    ['resumed', 'resumed', 'resumed', 'resumed']
    """
    from hardneg.report import write_experiment_report

    started = time.perf_counter()
    check_jobs(jobs)
    validate_value("engine", engine, [Options(ENGINES)])
    if ray_address is not None and engine != "ray":
        raise InputError(
            "ray_address is for engine ray; pass --engine ray too, or leave it out", parameter="ray_address"
        )
    experiment = load_experiment(experiment_file)
    out = Path(out)
    stamp = {"experiment": str(experiment.path), "dataset": str(experiment.dataset)}
    RunFolder(out, EXPERIMENT_STAMP_FILE + ".stamp", "experiment", scratch=(RUNS_DIR,), resume_when_same=True).prepare(
        stamp, overwrite=overwrite
    )
    reporter = resolve(progress)
    datasets = _arm_datasets(experiment, out, reporter)
    digest = _code_digest(experiment.model)
    specs, rows = [], []
    for arm in experiment.arms:
        for seed in experiment.seeds:
            source = datasets[arm.name]
            if isinstance(source, InputError):
                rows.append({"arm": arm.name, "seed": seed, "status": RUN_FAILED, "seconds": 0.0, "error": str(source)})
                continue
            specs.append(RunSpec(
                arm=arm, seed=seed, run_dir=str((out / RUNS_DIR / arm.name / str(seed)).resolve()),
                base_dataset=str(experiment.dataset), arm_dataset=source, model=experiment.model,
                command=experiment.command, features=experiment.features, eval_sets=experiment.eval_sets,
                held_out=experiment.held_out_groups, workdir=str(experiment.path.parent),
                code_digest=_code_digest(arm.train.get("model")) or digest,
            ))  # fmt: skip
    description = f"Running {len(specs)} runs ({len(experiment.arms)} arms x {len(experiment.seeds)} seeds)"
    if engine == "ray":
        rows += _execute_ray(specs, ray_address, reporter, description)
    else:
        rows += _execute_local(specs, jobs, reporter, description)
    order = {
        (arm.name, seed): k for k, (arm, seed) in enumerate((a, s) for a in experiment.arms for s in experiment.seeds)
    }
    rows.sort(key=lambda row: order[(row["arm"], row["seed"])])
    runs = pd.DataFrame(rows, columns=list(RUN_STATUS_COLUMNS)).astype({"seed": "int64", "seconds": "float64"})
    failed = runs[runs["status"] == RUN_FAILED]
    if len(failed) == len(runs):
        reasons = Counter(failed["error"])
        reason, count = reasons.most_common(1)[0]
        raise InputError(
            f"every run failed ({count} of {len(runs)}: {reason}); see {out / RUNS_DIR}/*/*/error.txt",
            parameter="experiment",
        )
    metrics, predictions = {}, {}
    for row in runs.itertuples():
        if row.status == RUN_FAILED:
            continue
        run_dir = out / RUNS_DIR / row.arm / str(row.seed)
        metrics[(row.arm, row.seed)] = json.loads((run_dir / RUN_METRICS_FILE).read_text())
        for item in experiment.eval_sets:
            predictions[(row.arm, row.seed, item.name)] = pd.read_parquet(predictions_file(run_dir, item.name))
    tables = analyse(experiment, metrics, predictions)
    tables["runs"] = runs
    notes = []
    if len(failed):
        notes.append(
            f"incomplete grid: {len(failed)} of {len(runs)} runs failed; comparisons and factor effects use the "
            "seeds both arms finished"
        )
    meta = {
        **experiment.to_dict(),
        "axes": {axis: list(levels) for axis, levels in experiment.axes.items()},
        "arms": {arm.name: arm.levels for arm in experiment.arms},
        "eval_sets": {
            item.name: {"kind": item.kind, "description": item.description, "timeline": False}
            for item in experiment.eval_sets
        },
        "model": experiment.model or f"command: {experiment.command}",
        "metrics": ["f1", "precision", "recall", "fa_per_hour"],
        "label_rule": LABEL_RULE.format(alpha=experiment.alpha),
        "holm_family": HOLM_FAMILY,
        "interval": (
            "per arm: a cluster bootstrap over the test groups, every seed evaluated on each draw (covers new "
            "groups and seeds); deltas: a hierarchical bootstrap drawing test groups and paired seeds"
        ),
        "notes": notes,
        "runs": {status: int(count) for status, count in runs["status"].value_counts().sort_index().items()},
    }
    for name, frame in tables.items():
        file = {"results": RESULTS_FILE, "comparisons": COMPARISONS_FILE, "criteria": CRITERIA_FILE,
                "summary": SUMMARY_FILE, "factors": FACTORS_FILE, "runs": RUN_TABLE_FILE}[name]  # fmt: skip
        write_parquet_atomic(frame.drop(columns=["seconds"]) if name == "runs" else frame, out / file)
    report_meta = {key: value for key, value in meta.items() if key != "runs"}
    write_experiment_report(out, {**tables, "runs": runs}, report_meta)
    meta["seconds"] = round(time.perf_counter() - started, 2)
    meta["resumed_runs"] = int((runs["status"] == RUN_RESUMED).sum())
    write_bytes_atomic(out / EXPERIMENT_STAMP_FILE, json.dumps(meta, indent=2, default=str) + "\n")
    return ExperimentResult(experiment, tables, meta, out)
