"""The benchmark: models x feature sets x splits x seeds, in parallel, resumable, with baselines."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import staged_files, write_parquet_atomic
from hardneg._progress import ProgressReporter, resolve
from hardneg._runs import RunFolder, part_name
from hardneg._schema import DEPLOYMENTS, NEW_GROUPS
from hardneg._schema import RESULT_COLUMNS as _RESULT_COLUMNS
from hardneg._schema import SCORE_COLUMNS as _SCORE_COLUMNS
from hardneg._validation import Options, validate_value
from hardneg.bench._external import EXTERNAL_FEATURES, external_part, find_external_models
from hardneg.bench._fit import feature_matrix, fit_classifier
from hardneg.bench._rows import subset_rows
from hardneg.bench._user import (
    WINDOWS_INPUT,
    is_spec,
    make_user_estimator,
    model_input,
    positive_scores,
    spec_label,
)
from hardneg.dataset import Dataset
from hardneg.errors import InputError
from hardneg.features import FEATURE_SETS
from hardneg.metrics import choose_threshold
from hardneg.models import BASELINES, MODELS
from hardneg.split import STRATEGIES, check_both_classes, load_split, make_split, saved_split_names
from hardneg.stats import CI_METHODS, bench_intervals

RESULT_COLUMNS = list(_RESULT_COLUMNS)
SCORE_COLUMNS = list(_SCORE_COLUMNS)
#: ``predictions.parquet``: every out-of-sample score, keyed by run and window (not the two-column table that
#: ``hardneg predict`` writes)
BENCH_PREDICTION_COLUMNS = ["model", "features", "split", "seed", "fold", "window_id", "score"]
PARAMETERS_FILE = "bench.parameters.json"
#: every interval of the run, one row per (model, features, split, subset, metric): ``hardneg.stats.SUMMARY_COLUMNS``
SUMMARY_FILE = "summary.parquet"
#: one results file (and its scores) per finished (model, features, split, seed): what a rerun skips
PARTS_DIR = "parts"


#: ``--splits saved:NAME`` names a saved split even where NAME alone would be read otherwise
SAVED_PREFIX = "saved:"
#: how a split's test sets vary over seeds, recorded as ``draw`` in bench.json's ``splits`` and shown in the report
FRESH_DRAW = "a fresh split per seed"
FIXED_DRAW = "fixed split (one draw)"


@dataclass
class SplitSource:
    """A split named on the command line: a strategy drawn anew per seed, or a split saved under DIR/splits/."""

    name: str
    saved: tuple[pd.DataFrame, dict] | None = None
    options: dict = field(default_factory=dict)

    @property
    def draw(self) -> str:
        """:data:`FIXED_DRAW` for a saved split (every seed tests on it), else :data:`FRESH_DRAW`."""
        return FIXED_DRAW if self.saved is not None else FRESH_DRAW

    def frame(self, dataset: Dataset, seed: int) -> tuple[pd.DataFrame, dict]:
        if self.saved is not None:
            return self.saved
        return make_split(dataset, self.name, seed=seed, **self.options)


def resolve_splits(dataset: Dataset, names: Sequence[str], options: dict | None = None) -> list[SplitSource]:
    """Read each name of ``--splits``: a strategy name, ``saved:NAME``, or the name of a saved split.

    A strategy name always draws a fresh split per seed, even where a split of
    that name was saved (before saving one under a strategy name was refused);
    ``saved:NAME`` reads ``DIR/splits/NAME.parquet``, as does any other name.
    """
    sources = []
    for name in names:
        if name.startswith(SAVED_PREFIX):
            stem = name[len(SAVED_PREFIX) :]
            if not (dataset.path / "splits" / f"{stem}.parquet").is_file():
                saved = saved_split_names(dataset.path)
                raise InputError(
                    f"splits: {name!r}: no split {stem!r} saved under {dataset.path / 'splits'} (saved splits: "
                    f"{', '.join(saved) or 'none'}); create it with `hardneg split`",
                    parameter="splits",
                )
            sources.append(SplitSource(stem, saved=load_split(dataset.path, stem)))
        elif name in STRATEGIES:
            sources.append(SplitSource(name, options=dict(options or {})))
        elif (dataset.path / "splits" / f"{name}.parquet").is_file():
            sources.append(SplitSource(name, saved=load_split(dataset.path, name)))
        else:
            saved = saved_split_names(dataset.path)
            raise InputError(
                f"splits: {name!r} is neither a strategy ({', '.join(STRATEGIES)}) nor a split saved under "
                f"{dataset.path / 'splits'} ({', '.join(saved) or 'none saved'}); create it with `hardneg split`",
                parameter="splits",
            )
    # Only a split saved under a strategy's name (before that was refused) can collide with the strategy.
    drawn = {source.name for source in sources if source.saved is None}
    clash = [source.name for source in sources if source.saved is not None and source.name in drawn]
    if clash:
        raise InputError(
            f"splits: {clash[0]!r} names both the strategy and the split saved under that name; bench one of them, "
            f"or re-save the split under another name",
            parameter="splits",
        )
    return sources


def check_names(option: str, names: Sequence[str], allowed: Sequence[str]) -> list[str]:
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise InputError(f"{option}: unknown {', '.join(unknown) or '(empty)'}; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(names))


def _fit_and_score(
    model_name: str,
    seed: int,
    features: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    kinds: np.ndarray,
    frame: pd.DataFrame,
    keys: dict,
) -> tuple[list[dict], list[pd.DataFrame]]:
    """Fit on each fold's train rows (repeated by ``copies``), pick the threshold on val, score val and test."""
    results: list[dict] = []
    scores: list[pd.DataFrame] = []
    for fold, rows in frame.groupby("fold", sort=True):
        train = rows[rows["subset"] == "train"]
        train_ids = np.repeat(train["window_id"].to_numpy(), train["copies"].to_numpy())
        if len(np.unique(labels[train_ids])) < 2:
            continue  # a fold whose training rows hold one class cannot fit a classifier; the audit reports it
        model = fit_classifier(model_name, seed, features[train_ids], labels[train_ids])
        subset_scores = {}
        for subset in ("val", "test"):
            ids = rows.loc[rows["subset"] == subset, "window_id"].to_numpy()
            if len(ids):
                subset_scores[subset] = (ids, positive_scores(model, features[ids]))
        # Threshold on validation; without a validation subset, on the training rows (stated in the report).
        if "val" in subset_scores:
            val_ids, val_scores = subset_scores["val"]
        else:
            val_ids = np.unique(train_ids)
            val_scores = positive_scores(model, features[val_ids])
        threshold = choose_threshold(labels[val_ids], val_scores)
        if not np.isfinite(threshold):  # validation held one class: no F1 to maximise
            threshold = 0.5
        for subset, (ids, score) in subset_scores.items():
            found, table = subset_rows(keys, fold, subset, ids, score, threshold, labels, groups, kinds)
            results += found
            scores.append(table)
    return results, scores


def _audit_task(
    dataset_dir: str, name: str, frame: pd.DataFrame, info: dict, audits_dir: str, predictions, deployment: str
) -> tuple[str, dict]:
    """Audit one split into ``audits_dir/NAME.audit.{json,md}`` (with predictions made elsewhere, if any)."""
    from hardneg.audit import AuditContext, run_audit, write_audit

    json_path = Path(audits_dir) / f"{name}.audit.json"
    report = run_audit(
        AuditContext(Dataset.load(dataset_dir), frame, info, predictions=predictions, deployment=deployment)
    )
    write_audit(report, json_path, Path(audits_dir) / f"{name}.audit.md")
    return name, json.loads(json_path.read_text())


def _label(name: str) -> str:
    """The name a model or feature set carries in results: itself if built in, else its spec's label."""
    return spec_label(name) if is_spec(name) else name


def check_models(names: Sequence[str]) -> list[str]:
    """Built-in names and user specs; each spec is loaded once here so a bad one fails before any fit."""
    builtin = [name for name in names if not is_spec(name)]
    if builtin or not names:
        check_names("--models", builtin, MODELS + BASELINES)
    for name in names:
        if is_spec(name):
            model_input(name)
            make_user_estimator(name, 0)
    return _unique_labels("models", list(dict.fromkeys(names)))


def check_features(names: Sequence[str]) -> list[str]:
    """Built-in feature set names and ``file.py:function`` specs."""
    builtin = [name for name in names if not is_spec(name)]
    if builtin or not names:
        check_names("--features", builtin, FEATURE_SETS)
    return _unique_labels("features", list(dict.fromkeys(names)))


def _unique_labels(parameter: str, names: list[str]) -> list[str]:
    labels = [_label(name) for name in names]
    clash = sorted({label for label in labels if labels.count(label) > 1})
    if clash:
        raise InputError(
            f"{parameter}: two entries would both be named {clash[0]!r} in the results; rename one", parameter=parameter
        )
    return names


def _part_path(parts_dir: Path, model_name: str, feature_name: str, split_name: str, seed: int) -> Path:
    return parts_dir / f"{part_name(f'{model_name}|{feature_name}|{split_name}|{seed}')}.parquet"


def _task(
    model_names: list[str],
    feature_name: str,
    split_name: str,
    seed: int,
    features,
    labels,
    groups,
    kinds,
    frame,
    parts_dir: str,
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Every model of one (features, split, seed); each model's part is written atomically as it finishes.

    Grouping the models means the feature matrix and the split travel to a worker once, not once per model.
    """
    from threadpoolctl import threadpool_limits

    finished = []
    # One BLAS/OpenMP thread per fit: these models are small, threads cost more than they give (measured: 10-seed
    # demo bench 21.6 s with two threads, 20.4 s with one), and --jobs is what spreads work over cores.
    with threadpool_limits(1):
        for model_name in model_names:
            finished.append(
                _fit_part(model_name, feature_name, split_name, seed, features, labels, groups, kinds, frame, parts_dir)
            )
    return finished


def _fit_part(
    model_name: str, feature_name: str, split_name: str, seed: int, features, labels, groups, kinds, frame, parts_dir
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit one model over every fold and write its part file atomically."""
    keys = {"model": _label(model_name), "features": _label(feature_name), "split": split_name, "seed": seed}
    results, scores = _fit_and_score(model_name, seed, features, labels, groups, kinds, frame, keys)
    result_frame = pd.DataFrame(results, columns=RESULT_COLUMNS)
    score_frame = (pd.concat(scores, ignore_index=True) if scores else pd.DataFrame(columns=SCORE_COLUMNS))[
        SCORE_COLUMNS
    ]
    part = _part_path(Path(parts_dir), model_name, feature_name, split_name, seed)
    # The results file last: its presence marks the part done.
    with staged_files(part.with_suffix(".scores.parquet"), part) as (scores_staging, results_staging):
        result_frame.to_parquet(results_staging, index=False)
        score_frame.to_parquet(scores_staging, index=False)
    return result_frame, score_frame


@dataclass
class BenchResult:
    """What a bench wrote: results, scores, the split audits, the run's description and every interval."""

    results: pd.DataFrame
    scores: pd.DataFrame
    audits: dict
    meta: dict
    out: Path
    summary: pd.DataFrame | None = None


def run_bench(
    dataset_dir: str | Path,
    out: str | Path,
    *,
    models: Sequence[str] = MODELS,
    features: Sequence[str] = ("summary",),
    splits: Sequence[str] | None = None,
    seeds: int = 5,
    jobs: int = 1,
    split_options: dict | None = None,
    overwrite: bool = False,
    ci_method: str = "cluster",
    n_resamples: int | None = None,
    predictions: Sequence[str | Path] | None = None,
    deployment: str = NEW_GROUPS,
    progress: ProgressReporter | None = None,
) -> BenchResult:
    """Benchmark every combination with the baselines, resuming from finished parts in ``out``.

    Parameters
    ----------
    dataset_dir : path
        A dataset built by ``hardneg sample``.
    out : path
        Output folder: ``results.parquet``, ``scores.parquet``, ``predictions.parquet`` (every out-of-sample
        score: the columns model, features, split, seed, fold, window_id, score of ``scores.parquet``),
        ``report.md``, ``report.html``, ``audits/``, and ``parts/`` (one file per finished combination, so a
        killed run resumes).
    models : sequence of str
        Built-in model names, or ``path/to/file.py:make`` / ``package.module:make``: a factory returning a
        scikit-learn-compatible classifier (``fit``, and ``predict_proba`` or ``decision_function``), called as
        ``make(seed)`` when it takes one argument, else ``make()`` with every ``random_state`` set to the seed. It
        is fitted on each feature set, or, when ``make.input == "windows"``, once on the (N, C, T) float32
        windows (feature name ``"windows"``). Its rows are named after the file stem (or module) and function,
        e.g. ``"cnn.make"``. The baselines prior, stratified and majority are always added.
    features : sequence of str
        Built-in feature set names, or ``path/to/file.py:function`` mapping ``(windows, index)`` to a 2-D
        matrix (numpy array or DataFrame) with one finite row per window.
    splits : sequence of str, optional
        ``("random", "group")`` by default, or with ``predictions`` every split folder they hold.
        Strategy names (a fresh split drawn for every seed) or splits saved under ``DIR/splits/``
        (``saved:NAME``, or a NAME that is not a strategy), on which every seed tests.
    seeds : int
        Seeds 0..seeds-1 (model seed, and split seed for strategies).
    jobs : int
        Parallel worker processes (joblib).
    ci_method : {"cluster", "seeds"}
        ``cluster`` (default): intervals from resampling the test groups, every seed evaluated on each draw, so
        they cover new groups like the test groups, and seeds; ``seeds``: a bootstrap of the mean over seeds x
        folds, which covers seeds only. Written to ``summary.parquet`` and used in the report.
    n_resamples : int, optional
        Group draws (default 1,000) or, for ``seeds``, resamples of the mean (2,000).
    predictions : sequence of path, optional
        Folders of predictions made elsewhere, one per model (named after the folder), laid out as
        ``FOLDER/<split>/<seed>/predictions.parquet`` (``window_id, score``, optionally ``fold``). They are
        evaluated instead of fitting ``models`` on ``features``: the same metrics, baselines (fitted on each
        split's training windows), intervals, audits and report. The seeds are the seed folders found.
    deployment : {"new-groups", "seen-groups"}
        What each split's audit judges it for (:class:`hardneg.audit.AuditContext`): a model that will meet new
        groups (shared groups are a leak), or one used on the groups it was trained on.

    Examples
    --------
    A real bench runs several models, splits and seeds (``seeds=10, jobs=2``); one of each on a small
    synthetic dataset (:func:`hardneg.demo.generate_world`) shows what comes back:

    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> result = run_bench(dataset.path, f"{tmp.name}/bench", models=["logreg"], splits=["random"], seeds=1)
    >>> sorted(result.results.model.unique()), sorted(result.audits)
    (['logreg', 'majority', 'prior', 'stratified'], ['random'])
    >>> test_auc = result.results.query("metric == 'roc_auc' and subset == 'test'")
    >>> test_auc.groupby("model").value.mean().round(2).to_dict()
    {'logreg': 0.95, 'majority': 0.5, 'prior': 0.5, 'stratified': 0.35}
    >>> sorted(path.name for path in result.out.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['audits', 'bench.json', 'bench.parameters.json', 'parts', 'plots', 'predictions.parquet', 'report.html',
     'report.md', 'results.parquet', 'scores.parquet', 'summary.parquet']
    >>> tmp.cleanup()
    """
    from joblib import Parallel, delayed

    from hardneg.report import write_bench_report

    started = time.perf_counter()
    dataset = Dataset.load(dataset_dir)
    check_both_classes(dataset.labels)
    if jobs < 1:
        raise InputError(f"jobs must be >= 1, got {jobs}", parameter="jobs")
    validate_value("ci_method", ci_method, [Options(CI_METHODS)])
    validate_value("deployment", deployment, [Options(DEPLOYMENTS)])
    external = find_external_models(list(predictions), splits) if predictions else []
    if external:
        models, feature_names, window_models = [model.name for model in external], [], []
        splits = list(external[0].files)
        seed_lists = {split: list(external[0].files[split]) for split in splits}
    else:
        models = check_models(list(models))
        feature_names = check_features(list(features))
        window_models = [name for name in models if is_spec(name) and model_input(name) == WINDOWS_INPUT]
        if seeds < 1:
            raise InputError(f"seeds must be >= 1, got {seeds}", parameter="seeds")
        splits = list(splits) if splits is not None else ["random", "group"]
        seed_lists = {split: list(range(seeds)) for split in splits}
    sources = resolve_splits(dataset, splits, split_options)
    seed_lists = {source.name: seed_lists[name] for source, name in zip(sources, splits)}
    out = Path(out)
    parameters = {
        "dataset": str(dataset.path),
        "dataset_windows": len(dataset),
        "models": models,
        "features": feature_names,
        "split_names": [source.name for source in sources],
        "seeds": seeds if not external else sorted({seed for seeds in seed_lists.values() for seed in seeds}),
        "split_options": split_options or {},
        "deployment": deployment,
    }
    if external:
        parameters["predictions"] = [str(model.root) for model in external]
    _prepare_out(out, parameters, overwrite)
    parts_dir = out / PARTS_DIR

    reporter = resolve(progress)
    labels = dataset.index["label"].to_numpy().astype(np.int64)
    groups = dataset.index["group"].astype(str).to_numpy()
    kinds = dataset.index["kind"].astype(str).to_numpy()
    timings = {"start": round(time.perf_counter() - started, 2)}
    matrices = {
        name: feature_matrix(name, dataset.windows, dataset.index, sample_rate_hz=dataset.meta.get("sample_rate_hz"))
        for name in reporter.track(feature_names, total=len(feature_names), description="Computing features")
    }
    all_models = [name for name in models if name not in window_models]
    all_models += [name for name in BASELINES if name not in models]
    # Models fitted on the windows themselves run once per split and seed, under the feature name "windows".
    models_by_input = [(name, all_models) for name in feature_names]
    if external:  # only the baselines are fitted, and they ignore the features
        matrices[EXTERNAL_FEATURES] = np.zeros((len(dataset), 1), dtype=np.float32)
        models_by_input = [(EXTERNAL_FEATURES, list(BASELINES))]
    if window_models:
        matrices[WINDOWS_INPUT] = np.asarray(dataset.windows, dtype=np.float32)
        models_by_input.append((WINDOWS_INPUT, window_models))
    frames = {
        (source.name, seed): source.frame(dataset, seed)[0] for source in sources for seed in seed_lists[source.name]
    }

    timings["features"] = round(time.perf_counter() - started, 2)
    # Each split is audited once (seed 0's draw), as a task in the same worker pool as the fits, so the audits
    # overlap with fitting instead of adding to the wall time.
    split_descriptions, audit_calls = {}, []
    (out / "audits").mkdir(exist_ok=True)
    for source in sources:
        frame, info = source.frame(dataset, seed_lists[source.name][0])
        split_descriptions[source.name] = {
            "strategy": info.get("strategy"),
            "measures": info.get("measures", ""),
            "draw": source.draw,
        }
        audit_calls.append((source.name, frame, info))

    tasks, done = [], []
    for source in sources:
        for seed in seed_lists[source.name]:
            for feature_name, input_models in models_by_input:
                missing = []
                for model_name in input_models:
                    part = _part_path(parts_dir, model_name, feature_name, source.name, seed)
                    if part.is_file():
                        done.append((pd.read_parquet(part), pd.read_parquet(part.with_suffix(".scores.parquet"))))
                    else:
                        missing.append(model_name)
                if missing:
                    tasks.append((missing, feature_name, source.name, seed))
    # The costliest feature sets first (more columns, slower fits), so the run does not end on one long task.
    tasks.sort(key=lambda task: -matrices[task[1]].shape[1])
    total = sum(len(seed_lists[source.name]) for source in sources) * sum(len(m) for _, m in models_by_input)
    n_external = len(external) * sum(len(seed_lists[source.name]) for source in sources)  # (model, split, seed)
    notes, failures, audit_predictions = [], [], {}
    for model in reporter.track(external, total=len(external), description="Reading predictions"):
        for source in sources:
            for seed in seed_lists[source.name]:
                try:
                    results_part, scores_part, found = external_part(
                        model, source.name, seed, frames[(source.name, seed)], labels, groups, kinds
                    )
                except InputError as error:  # one broken file is left out, the rest is evaluated
                    failures.append(error)
                    notes.append(f"left out: {error}")
                    continue
                done.append((results_part, scores_part))
                notes += found
                # the audit's prediction checks read the first model's predictions on the split's audited draw
                if model is external[0] and seed == seed_lists[source.name][0]:
                    audit_predictions[source.name] = scores_part[["fold", "window_id", "score"]]
    if failures and len(failures) == n_external:
        raise failures[0]
    total += n_external
    resumed = len(done) - (n_external - len(failures))
    audits: dict[str, dict] = {}
    # Arrays above 64 kB go to workers as one shared memory map instead of a pickle per task.
    # One task per batch: tasks take ~0.3 s, and a large last batch would leave the other worker idle at the end.
    parallel = Parallel(n_jobs=jobs, return_as="generator_unordered", max_nbytes="64K", batch_size=1)
    calls = [
        delayed(_audit_task)(str(dataset.path), name, frame, info, str(out / "audits"), audit_predictions.get(name), deployment)
        for name, frame, info in audit_calls
    ] + [
        delayed(_task)(
            missing, feature_name, split_name, seed, matrices[feature_name], labels, groups, kinds,
            frames[(split_name, seed)], str(parts_dir),
        )
        for missing, feature_name, split_name, seed in tasks
    ]  # fmt: skip
    description = f"Auditing and fitting ({resumed} of {total} fits done before)"
    for finished in reporter.track(parallel(calls), total=len(calls), description=description):
        if isinstance(finished, tuple):  # an audit: (split name, audit JSON)
            audits[finished[0]] = finished[1]
        else:
            done.extend(finished)

    timings["fits"] = round(time.perf_counter() - started, 2)
    results, scores = _collect(done)
    write_parquet_atomic(results, out / "results.parquet")
    write_parquet_atomic(scores, out / "scores.parquet")
    write_parquet_atomic(scores[BENCH_PREDICTION_COLUMNS], out / "predictions.parquet")
    intervals = bench_intervals(scores, results, ci_method=ci_method, n_resamples=n_resamples)
    write_parquet_atomic(intervals.summary, out / SUMMARY_FILE)
    timings["intervals"] = round(time.perf_counter() - started, 2)
    meta = {
        **parameters,
        "baselines": list(BASELINES),
        "jobs": jobs,
        "combinations": total,
        "resumed_parts": resumed,
        "seconds": round(time.perf_counter() - started, 2),
        "dataset_counts": {"windows": len(dataset), "positives": int(labels.sum())},
        "splits": split_descriptions,
        **({"notes": sorted(set(notes))} if notes else {}),
        "intervals": {
            "ci_method": intervals.ci_method,
            "covers": intervals.covers,
            "n_resamples": intervals.n_resamples,
            "confidence": intervals.confidence,
            "warnings": intervals.warnings,
        },
        "window_ms": (dataset.meta.get("parameters") or {}).get("window_ms"),
    }
    # The wall time goes to bench.json only, so the same run writes the same report bytes.
    timings["collected"] = round(time.perf_counter() - started, 2)
    write_bench_report(
        out, results, scores, audits, {key: value for key, value in meta.items() if key != "seconds"},
        intervals=intervals,
    )  # fmt: skip
    timings["report"] = round(time.perf_counter() - started, 2)
    meta["seconds_elapsed_after"] = timings  # cumulative, for finding what a slow run spends its time on
    (out / "bench.json").write_text(json.dumps(meta, indent=2) + "\n")
    return BenchResult(results, scores, audits, meta, out, intervals.summary)


def _prepare_out(out: Path, parameters: dict, overwrite: bool) -> None:
    """Resume into ``out`` only when it was made by a bench with the same parameters."""
    RunFolder(out, PARAMETERS_FILE, "bench", scratch=(PARTS_DIR,), resume_when_same=True).prepare(
        parameters, overwrite=overwrite
    )


def _collect(done: list[tuple[pd.DataFrame, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All parts in one canonical order, so a resumed or parallel run writes the same bytes as a serial one."""
    result_frame = pd.concat([results for results, _ in done], ignore_index=True)[RESULT_COLUMNS]
    score_frame = pd.concat([scores for _, scores in done], ignore_index=True)[SCORE_COLUMNS]
    order = ["split", "features", "model", "seed", "fold", "subset"]
    result_frame = result_frame.sort_values([*order, "metric"], kind="stable").reset_index(drop=True)
    score_frame = score_frame.sort_values([*order, "window_id"], kind="stable").reset_index(drop=True)
    return result_frame, score_frame
