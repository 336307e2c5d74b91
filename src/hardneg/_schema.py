"""The shared vocabulary: table columns, subset, verdict and kind names, artifact file names.

Every stage names these things the same way by importing them from here;
:func:`check_columns` is the one "are the required columns there?" check.

Examples
--------
>>> import pandas as pd
>>> check_columns(pd.DataFrame({"window_id": [0], "score": [0.5]}), PREDICTION_COLUMNS, "predictions.parquet")
>>> check_columns(pd.DataFrame({"window_id": [0]}), PREDICTION_COLUMNS, "predictions.parquet")
Traceback (most recent call last):
...
hardneg.errors.InputError: predictions.parquet: column 'score' missing; expected window_id, score
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hardneg.errors import InputError

__all__ = [
    "ARM_SUMMARY_COLUMNS",
    "BASELINES",
    "CANDIDATES_FILE",
    "LABEL_ERRORS_FILE",
    "REVIEWED_COLUMNS",
    "REVIEWED_FILE",
    "REVIEW_DB_FILE",
    "REVIEW_MEDIA_DIR",
    "REVIEW_STATES",
    "UNREVIEWED",
    "CARD_FILE",
    "COMPARISONS_FILE",
    "COMPARISON_COLUMNS",
    "CRITERIA_COLUMNS",
    "CRITERIA_FILE",
    "DEPLOYMENTS",
    "DEPLOYMENT_LINES",
    "EVENT_COLUMNS",
    "EXPERIMENT_RESULT_COLUMNS",
    "EXPERIMENT_STAMP_FILE",
    "EXPERIMENT_TIMELINE_METRICS",
    "EXPERIMENT_WINDOW_METRICS",
    "FACTOR_COLUMNS",
    "FAIL",
    "INDEX_COLUMNS",
    "INDEX_FILE",
    "ITEMS_FILE",
    "ITEM_COLUMNS",
    "KINDS",
    "META_FILE",
    "MODEL_FILE",
    "NEGATIVE_KINDS",
    "NEW_GROUPS",
    "PASS",
    "PREDICTIONS_FILE",
    "PREDICTION_COLUMNS",
    "RESULTS_FILE",
    "RESULT_COLUMNS",
    "RUNS_DIR",
    "RUN_CONFIG_FILE",
    "RUN_DONE",
    "RUN_ERROR_FILE",
    "RUN_FAILED",
    "RUN_LOG_FILE",
    "RUN_METRICS_FILE",
    "RUN_RESUMED",
    "RUN_STATUS_COLUMNS",
    "SCORED_WINDOW_COLUMNS",
    "SCORE_COLUMNS",
    "SCORE_KEY_COLUMNS",
    "SEEN_GROUPS",
    "SKIP",
    "SPLITS_DIR",
    "SPLIT_COLUMNS",
    "SUBSETS",
    "TEST",
    "TRAIN",
    "VAL",
    "VERDICTS",
    "WARN",
    "WINDOWS_FILE",
    "WINDOW_TABLE_COLUMNS",
    "check_columns",
]

# ---------------------------------------------------------------- subsets
TRAIN, VAL, TEST = "train", "val", "test"
#: the subsets a split assigns windows to, in this order
SUBSETS = (TRAIN, VAL, TEST)

# ---------------------------------------------------------------- verdicts
PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
#: audit verdicts from the least to the most severe
VERDICTS = (SKIP, PASS, WARN, FAIL)

# ---------------------------------------------------------------- deployments
NEW_GROUPS, SEEN_GROUPS = "new-groups", "seen-groups"
#: what an audit judges a split against: a model that will meet new groups (subjects, sessions, cameras), the
#: default, or one used on the groups it was trained on (per-subject monitoring, personalised on each group's past)
DEPLOYMENTS = (NEW_GROUPS, SEEN_GROUPS)
#: the sentence an audit (and the bench report) says of each deployment
DEPLOYMENT_LINES = {
    NEW_GROUPS: "Judged for deployment on new groups (the model will meet subjects/sessions it was not trained on).",
    SEEN_GROUPS: "Judged for deployment on groups already seen (the model is used on the subjects/sessions it was "
    "trained on, e.g. personalised on each one's past).",
}


# ---------------------------------------------------------------- window kinds
#: ``kind`` values of a dataset's windows
#: ``labelled``: a negative anchored on a labelled look-alike event (another beat type, another species' call)
KINDS = ("pos", "near", "far", "uniform", "hard", "labelled")
NEGATIVE_KINDS = KINDS[1:]

#: the chance-level baselines every benchmark fits beside the models
BASELINES = ("prior", "stratified", "majority")

# ---------------------------------------------------------------- table columns
#: a dataset's ``index.parquet``
INDEX_COLUMNS = (
    "window_id",
    "recording",
    "group",
    "start_ms",
    "end_ms",
    "label",
    "kind",
    "event_id",
    "event_t_ms",
    "motion",
    "start_sample",
    "event_label",
)
#: a saved split
SPLIT_COLUMNS = ("fold", "window_id", "subset", "copies")
#: where a window of a pool or a timeline lies (what windowing yields)
WINDOW_TABLE_COLUMNS = ("item", "group", "start_ms", "end_ms")
#: the window table with its score: what scoring yields, for mining and streaming alike
SCORED_WINDOW_COLUMNS = (*WINDOW_TABLE_COLUMNS, "score")
#: per-item aggregates of mined scores (``items.parquet``)
ITEM_COLUMNS = ("item", "group", "n_windows", "max_score", "mean_score", "topk_mean", "argmax_ms")
#: a table of predictions for a dataset's windows
PREDICTION_COLUMNS = ("window_id", "score")
#: bench ``results.parquet``, long format
RESULT_COLUMNS = ("model", "features", "split", "seed", "fold", "subset", "metric", "value")
#: what every bench scores table holds (an older ``scores.parquet`` has only these)
SCORE_KEY_COLUMNS = ("model", "features", "split", "seed", "fold", "subset", "window_id", "label", "group", "score")
#: bench out-of-sample scores: with each window's kind (pos, near, ...) and its fold's validation-chosen threshold
SCORE_COLUMNS = (*SCORE_KEY_COLUMNS[:-1], "kind", "score", "threshold")
#: events, however they were read
EVENT_COLUMNS = ("recording", "t_ms", "end_ms", "label", "event_id")

# ---------------------------------------------------------------- hardneg experiment
#: ``results.parquet`` of an experiment, long format; one column per axis of the arms follows ``arm``
EXPERIMENT_RESULT_COLUMNS = ("arm", "seed", "eval_set", "metric", "value")
#: ``comparisons.parquet``: each arm against its baseline arm, paired by seed id (the issue's names first)
COMPARISON_COLUMNS = (
    "arm",
    "baseline",
    "eval_set",
    "metric",
    "n_pairs",
    "mean_delta",
    "ci_low",
    "ci_high",
    "wilcoxon_p",
    "p_holm",
    "label",
    "seeds_needed",
    "unpaired",
    "ttest_p",
    "reachable",
    "covers",
)
#: ``summary.parquet``: per arm, evaluation set and metric, the mean over seeds, its spread and interval
ARM_SUMMARY_COLUMNS = ("arm", "eval_set", "metric", "n_seeds", "mean", "sd", "ci_low", "ci_high", "covers")
#: ``criteria.parquet``: each success criterion judged on each arm (on the mean over seeds)
CRITERIA_COLUMNS = (
    "arm",
    "criterion",
    "eval_set",
    "metric",
    "op",
    "target",
    "value",
    "ci_low",
    "ci_high",
    "passed",
    "seeds_passed",
    "n_seeds",
)
#: ``factors.parquet``: the mean paired delta of each level of an axis against that axis's reference level
FACTOR_COLUMNS = ("axis", "level", "reference", "eval_set", "metric", "n_arms", "n_pairs", "mean_delta", "sd_delta")
#: ``runs.parquet``: what became of every (arm, seed)
RUN_STATUS_COLUMNS = ("arm", "seed", "status", "seconds", "error")
#: the states of a run
RUN_DONE, RUN_FAILED, RUN_RESUMED = "done", "failed", "resumed"
#: window metrics every run reports on every window evaluation set
EXPERIMENT_WINDOW_METRICS = ("f1", "precision", "recall", "fpr", "roc_auc", "average_precision", "ece")
#: timeline metrics of an evaluation set with recordings: events found, false alarms per hour (stream's)
EXPERIMENT_TIMELINE_METRICS = ("recall", "precision", "f1", "fa_per_hour")

# ---------------------------------------------------------------- artifact files
INDEX_FILE = "index.parquet"
WINDOWS_FILE = "windows.npy"
META_FILE = "meta.json"
SPLITS_DIR = "splits"
MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
CANDIDATES_FILE = "candidates.parquet"
ITEMS_FILE = "items.parquet"
PREDICTIONS_FILE = "predictions.parquet"
RESULTS_FILE = "results.parquet"
EXPERIMENT_STAMP_FILE = "experiment.json"
RUNS_DIR = "runs"
RUN_CONFIG_FILE = "config.json"
RUN_METRICS_FILE = "metrics.json"
RUN_LOG_FILE = "log.txt"
RUN_ERROR_FILE = "error.txt"
COMPARISONS_FILE = "comparisons.parquet"
CRITERIA_FILE = "criteria.parquet"

# ---- review: decisions on mined candidates (hardneg review / hardneg export)
#: the decision log next to the mined outputs (SQLite, WAL)
REVIEW_DB_FILE = "review.sqlite"
#: what a reviewer can say about a candidate: a confirmed negative, a true positive (a label error), unsure, skipped
REVIEW_STATES = ("negative", "positive", "unsure", "skip")
#: a candidate nobody has decided on yet (a filter value, never stored)
UNREVIEWED = "unreviewed"
#: media the review page makes on demand (frames around a video frame, audio context, a sensor window's data)
REVIEW_MEDIA_DIR = "review_media"
#: the reviewed manifest ``hardneg export --format manifest`` writes and ``hardneg sample --hard-negatives`` reads
REVIEWED_FILE = "reviewed.parquet"
REVIEWED_COLUMNS = ("item", "group", "start_ms", "end_ms", "score", "state", "category", "reviewer", "decided_at", "path")
LABEL_ERRORS_FILE = "label_errors.csv"


def check_columns(frame, required: Sequence[str], what: str, *, hint: str | None = None) -> None:
    """Raise :class:`InputError` unless ``frame`` has every column of ``required``.

    Parameters
    ----------
    frame : pandas.DataFrame or pyarrow.Table
        Anything with ``columns`` or ``column_names``.
    required : sequence of str
        Column names that must be present.
    what : str
        What the table is (a file path or a description), the message's first words.
    hint : str, optional
        What to do, appended in parentheses.
    """
    present: Iterable[str] = getattr(frame, "column_names", None) or list(getattr(frame, "columns", []))
    present = set(present)
    missing = [name for name in required if name not in present]
    if not missing:
        return
    names = ", ".join(repr(name) for name in missing)
    message = f"{what}: column{'s' if len(missing) > 1 else ''} {names} missing; expected {', '.join(required)}"
    if hint:
        message += f" ({hint})"
    raise InputError(message)
