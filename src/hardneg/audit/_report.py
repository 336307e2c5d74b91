"""Run the registered checks on a split and write the audit as JSON and Markdown.

The Markdown is a :class:`hardneg.report.Document`, like every report hardneg writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from threadpoolctl import threadpool_limits

from hardneg._atomic import write_bytes_atomic
from hardneg._schema import DEPLOYMENT_LINES
from hardneg.audit._base import (
    CHECKS,
    FAIL,
    NEW_GROUPS,
    SKIP,
    AuditContext,
    CheckResult,
    jsonable,
    worst_verdict,
)
from hardneg.errors import InputError
from hardneg.report import Document, Heading, Paragraph, Table

__all__ = [
    "AUDIT_SUFFIXES",
    "AuditReport",
    "audit_paths",
    "audit_split",
    "deployment_line",
    "format_numbers",
    "read_predictions",
    "run_audit",
    "write_audit",
]

AUDIT_SUFFIXES = (".audit.json", ".audit.md")

#: Scalar numbers shown per check in the summary table; the rest are in the details and the JSON.
TABLE_NUMBERS = 3


#: The one line an audit report states its deployment in (Markdown and console alike).
def deployment_line(deployment: str | None) -> str:
    """The sentence saying which deployment an audit judged the split for; ``""`` when it is not known.

    Examples
    --------
    >>> print(deployment_line("new-groups"))
    Judged for deployment on new groups (the model will meet subjects/sessions it was not trained on).
    >>> deployment_line(None)
    ''
    """
    return DEPLOYMENT_LINES.get(deployment, "")


@dataclass
class AuditReport:
    """The results of an audit, in check order.

    Attributes
    ----------
    results : list of CheckResult
    split : str or None
        The split's name, from its JSON card.
    deployment : {"new-groups", "seen-groups"} or None
        What the checks judged the split for (:class:`AuditContext`); ``None`` when not known.

    Examples
    --------
    A small synthetic world (:func:`hardneg.demo.generate_world`: four sessions, two shooters) and a dataset built from it:

    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> from hardneg.split import make_split
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> report = run_audit(AuditContext(dataset, *make_split(dataset, "random", seed=0)))
    >>> report.verdict, report["group_overlap"].verdict, report.split, report.deployment
    ('FAIL', 'FAIL', 'random', 'new-groups')
    >>> tmp.cleanup()
    """

    results: list[CheckResult] = field(default_factory=list)
    split: str | None = None
    deployment: str | None = None

    @property
    def verdict(self) -> str:
        """The most severe verdict of any check (``SKIP`` only if every check skipped)."""
        return worst_verdict(result.verdict for result in self.results)

    @property
    def failed(self) -> bool:
        return any(result.verdict == FAIL for result in self.results)

    def __getitem__(self, check: str) -> CheckResult:
        for result in self.results:
            if result.check == check:
                return result
        raise KeyError(f"no check {check!r} in this audit; it ran: {', '.join(r.check for r in self.results)}")

    def __iter__(self):
        return iter(self.results)

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "deployment": self.deployment,
            "checks": [result.to_dict() for result in self.results],
            "verdict": self.verdict,
        }

    def table_rows(self) -> list[tuple[str, str, str]]:
        """(check, verdict, key numbers) per check, for the Markdown table and the console."""
        return [
            (r.check, r.verdict, _first_sentence(r.explanation) if r.verdict == SKIP else format_numbers(r.numbers))
            for r in self.results
        ]

    def to_document(self) -> Document:
        """The audit as a :class:`~hardneg.report.Document`: verdict, summary table, one section per check.

        Cells and explanations are written as given (``verbatim``), so the Markdown shows them unchanged.
        """
        doc = Document(f"Audit of split `{self.split}`" if self.split else "Audit")
        if self.deployment is not None:
            doc.add(Paragraph(deployment_line(self.deployment)))
        doc.add(Paragraph(f"Overall verdict: **{self.verdict}**"))
        rows = [[check, _badge(verdict), numbers] for check, verdict, numbers in self.table_rows()]
        doc.add(Table(["check", "verdict", "key numbers"], rows, align="---", verbatim=True))
        doc.add(Heading(2, "Details"))
        for result in self.results:
            doc.add(Heading(3, f"{result.check}: {result.verdict}"), Paragraph(result.explanation, verbatim=True))
        return doc

    def to_markdown(self) -> str:
        # Stripped at the end so that a trailing blank explanation leaves no blank lines behind.
        return self.to_document().markdown().rstrip() + "\n"

    def to_text(self) -> str:
        """A plain table for the terminal."""
        rows = [("check", "verdict", "key numbers")] + self.table_rows()
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        out = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}" for row in rows]
        out.append(f"overall: {self.verdict}")
        return "\n".join(out)


def format_numbers(numbers: dict, limit: int = TABLE_NUMBERS) -> str:
    """The first ``limit`` scalar numbers as ``name=value`` (floats to 3 significant digits)."""
    shown = []
    for name, value in jsonable(numbers).items():
        if isinstance(value, (bool, dict, list)):
            continue
        if isinstance(value, float):
            text = f"{value:.3g}"
        elif value is None:
            text = "n/a"
        else:
            text = str(value)
        shown.append(f"{name}={text}")
        if len(shown) == limit:
            break
    return ", ".join(shown)


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + (dot.strip() if dot else "")


def _badge(verdict: str) -> str:
    return f"**{verdict}**" if verdict == FAIL else verdict


def run_audit(context: AuditContext, checks: Sequence[str] | None = None) -> AuditReport:
    """Run the registered checks (all, or those named) on ``context``.

    A check that needs predictions is reported as ``SKIP`` when the context
    has none. Exceptions raised by a check are not caught.

    Parameters
    ----------
    context : AuditContext
    checks : sequence of str, optional
        Names from :data:`hardneg.audit.CHECKS`; default all, in registration order.

    Returns
    -------
    AuditReport

    Examples
    --------
    A small synthetic world (:func:`hardneg.demo.generate_world`: four sessions, two shooters) and a dataset built from it:

    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> from hardneg.split import make_split
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> frame, info = make_split(dataset, "random", seed=0)
    >>> report = run_audit(AuditContext(dataset, frame, info), checks=["group_overlap", "class_balance"])
    >>> print(report.to_text())  # doctest: +NORMALIZE_WHITESPACE
    check          verdict  key numbers
    group_overlap  FAIL     shared_groups=2, test_windows_in_train_groups=1, folds_with_shared_groups=1
    class_balance  FAIL     test_positives=4, recall_interval_width=0.7, min_val_positives=3
    overall: FAIL
    >>> tmp.cleanup()
    """
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise InputError(f"unknown audit check {unknown[0]!r}; use one of: {', '.join(CHECKS)}")
    results = []
    for name in names:
        check = CHECKS[name]
        if check.needs_predictions and context.predictions is None:
            results.append(
                CheckResult(
                    name,
                    SKIP,
                    {},
                    "No predictions given: pass --predictions FILE (window_id, score; `hardneg predict` writes it).",
                )
            )
            continue
        # One thread per native pool: OpenBLAS threads spin between calls and starve the OpenMP threads of the
        # gradient boosting that follows, and both collapse when other processes share the cores (a 0.6 s check
        # took 5-10 s on 2 busy cores). The work here is small products and small trees; one thread is faster.
        with threadpool_limits(limits=1):
            result = check.func(context)
        if not isinstance(result, CheckResult) or result.check != name:
            raise TypeError(f"audit check {name!r} must return CheckResult({name!r}, ...), got {result!r}")
        results.append(result)
    return AuditReport(results, split=context.split_name, deployment=context.deployment)


def write_audit(report: AuditReport, json_path: str | Path, md_path: str | Path) -> tuple[Path, Path]:
    """Write ``report`` as JSON (``{"split", "deployment", "checks", "verdict"}``) and Markdown, each atomically.

    Examples
    --------
    A small synthetic world (:func:`hardneg.demo.generate_world`: four sessions, two shooters) and a dataset built from it:

    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> from hardneg.split import make_split
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> report = run_audit(AuditContext(dataset, *make_split(dataset, "random", seed=0)), checks=["group_overlap"])
    >>> json_path, md_path = write_audit(report, *audit_paths(dataset.path, "random"))
    >>> [path.relative_to(tmp.name).as_posix() for path in (json_path, md_path)]
    ['shots/splits/random.audit.json', 'shots/splits/random.audit.md']
    >>> json.loads(json_path.read_text())["verdict"]
    'FAIL'
    >>> tmp.cleanup()
    """
    json_path, md_path = Path(json_path), Path(md_path)
    write_bytes_atomic(json_path, json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
    write_bytes_atomic(md_path, report.to_markdown())
    return json_path, md_path


def audit_paths(dataset_dir: str | Path, name: str) -> tuple[Path, Path]:
    """``(DIR/splits/NAME.audit.json, DIR/splits/NAME.audit.md)``."""
    from hardneg.split import split_paths

    folder = split_paths(dataset_dir, name)[0].parent
    return tuple(folder / f"{name}{suffix}" for suffix in AUDIT_SUFFIXES)


def read_predictions(path: str | Path):
    """Read a predictions file (Parquet or CSV: ``window_id``, ``score``, optional ``fold``) for ``--predictions``.

    Columns and values are checked when the :class:`AuditContext` is made.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"predictions {path}: file not found; write one with `hardneg predict MODEL_DIR DIR`",
            parameter="predictions",
        )
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path)
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(
            f"predictions {path}: cannot be read as Parquet or CSV ({error})", parameter="predictions"
        ) from None


def audit_split(
    dataset_dir: str | Path,
    name: str,
    *,
    predictions=None,
    seed: int = 0,
    confidence: float = 0.95,
    deployment: str = NEW_GROUPS,
    checks: Sequence[str] | None = None,
    write: bool = True,
) -> AuditReport:
    """Audit the split ``name`` saved under ``DIR/splits/`` and write ``NAME.audit.json`` and ``NAME.audit.md``.

    What ``hardneg audit DIR --split NAME [--predictions P] [--deployment D]`` does. The report is titled
    with ``name`` and stores it, whatever name the split's JSON card holds.

    Parameters
    ----------
    dataset_dir : path
        The dataset directory.
    name : str
        A split saved with :func:`hardneg.split.save_split`.
    predictions : path or pandas.DataFrame, optional
        ``window_id``, ``score`` (and ``fold``), as written by ``hardneg predict``.
    seed, confidence, deployment : see :class:`AuditContext`.
    checks : sequence of str, optional
        Only these checks.
    write : bool, default=True
        Write the two files next to the split.

    Examples
    --------
    A small synthetic world (:func:`hardneg.demo.generate_world`: four sessions, two shooters) and a dataset built from it:

    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> from hardneg.split import make_split
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> import numpy as np, pandas as pd
    >>> from hardneg.split import save_split
    >>> _ = save_split(dataset.path, "by-shooter", *make_split(dataset, "group", test_groups=["shooter_b"], val_size=0))
    >>> predictions = pd.DataFrame({"window_id": dataset.index.window_id,
    ...                             "score": np.where(dataset.labels == 1, 0.9, 0.1)})
    >>> report = audit_split(dataset.path, "by-shooter", predictions=predictions)
    >>> report["group_overlap"].verdict, report["roc_below_chance"].verdict, report.failed
    ('PASS', 'PASS', True)
    >>> [result.check for result in report if result.verdict == "FAIL"]
    ['class_balance', 'prediction_clustering']
    >>> sorted(path.name for path in (dataset.path / "splits").iterdir())
    ['by-shooter.audit.json', 'by-shooter.audit.md', 'by-shooter.json', 'by-shooter.parquet']
    >>> tmp.cleanup()
    """
    from hardneg.dataset import Dataset
    from hardneg.split import load_split

    dataset = Dataset.load(dataset_dir)
    frame, info = load_split(dataset_dir, name)
    source = None
    if predictions is not None and not hasattr(predictions, "columns"):
        source = Path(predictions)
        predictions = read_predictions(predictions)
    try:
        context = AuditContext(
            dataset, frame, info, predictions, seed=seed, confidence=confidence, deployment=deployment
        )
    except InputError as error:
        message = str(error)
        if source is None or not message.startswith("predictions:"):
            raise
        # the checks name "predictions"; the user needs to know which file
        raise InputError(f"predictions {source}:{message[len('predictions:') :]}", parameter="predictions") from None
    report = run_audit(context, checks)
    # The files are NAME.audit.*, so the report names NAME, even if the card was copied from another split.
    report.split = name
    if write:
        write_audit(report, *audit_paths(dataset_dir, name))
    return report
