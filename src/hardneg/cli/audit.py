"""``hardneg audit``: leakage and confound checks on a saved split, and on predictions when given."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hardneg._schema import NEW_GROUPS
from hardneg.cli.common import Deployment, Quiet

__all__ = ["audit", "register"]


def audit(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory made by `hardneg sample`.", show_default=False)],
    split: Annotated[str, typer.Option(help="Name of a split saved under DIR/splits/ by `hardneg split`.")],
    predictions: Annotated[
        Path | None, typer.Option(help="Parquet with window_id,score (from `hardneg predict`) to audit too.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 when any check FAILs.")] = False,
    seed: Annotated[int, typer.Option(help="Seed for the checks' own cross-validation and bootstrap.")] = 0,
    confidence: Annotated[
        float, typer.Option(help="Confidence level of the intervals (test-set size, AUC and gap checks).")
    ] = 0.95,
    deployment: Deployment = NEW_GROUPS,
    quiet: Quiet = False,
) -> None:
    """Say, with numbers, whether scores on this split can be trusted.

    Writes DIR/splits/NAME.audit.json and NAME.audit.md; each check has a verdict (PASS, WARN, FAIL, SKIP),
    its numbers and an explanation.
    """
    from hardneg.audit import audit_paths, audit_split
    from hardneg.cli.common import print_audit, print_failed_audit

    audit_split(dataset, split, predictions=predictions, seed=seed, confidence=confidence, deployment=deployment)
    json_path = audit_paths(dataset, split)[0]
    verdict = print_failed_audit(json_path) if quiet else print_audit(json_path)
    if strict and verdict == "FAIL":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``hardneg audit`` to ``app``."""
    app.command(no_args_is_help=True)(audit)
