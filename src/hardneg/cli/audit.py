"""``hardneg audit``: leakage and confound checks on a saved split, and on predictions when given."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from hardneg.cli.common import input_errors_exit_2, print_audit


def audit(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory made by `hardneg sample`.", show_default=False)],
    split: Annotated[str, typer.Option(help="Name of a split saved under DIR/splits/ by `hardneg split`.")],
    predictions: Annotated[
        Optional[Path], typer.Option(help="Parquet with window_id,score (from `hardneg predict`) to audit too.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 when any check FAILs.")] = False,
    seed: Annotated[int, typer.Option(help="Seed for the checks' own cross-validation and bootstrap.")] = 0,
    confidence: Annotated[
        float, typer.Option(help="Confidence level of the intervals (test-set size, AUC and gap checks).")
    ] = 0.95,
) -> None:
    """Say, with numbers, whether scores on this split can be trusted.

    Writes DIR/splits/NAME.audit.json and NAME.audit.md; each check has a verdict (PASS, WARN, FAIL, SKIP),
    its numbers and an explanation.
    """
    from hardneg.audit import AuditContext, read_predictions, run_audit, write_audit
    from hardneg.dataset import Dataset
    from hardneg.split import load_split

    with input_errors_exit_2():
        loaded = Dataset.load(dataset)
        frame, info = load_split(loaded.path, split)
        scored = read_predictions(predictions) if predictions is not None else None
        report = run_audit(AuditContext(loaded, frame, info, predictions=scored, seed=seed, confidence=confidence))
        json_path = loaded.path / "splits" / f"{split}.audit.json"
        write_audit(report, json_path, loaded.path / "splits" / f"{split}.audit.md")
        verdict = print_audit(json_path, Console())
    if strict and verdict == "FAIL":
        raise typer.Exit(1)
