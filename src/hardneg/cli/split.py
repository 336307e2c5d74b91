"""``hardneg split``: assign a dataset's windows to train/val/test (or folds) and audit the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from hardneg._schema import NEW_GROUPS
from hardneg.cli.common import Deployment, Quiet, choices
from hardneg.split import STRATEGIES

__all__ = ["register", "split"]


def split(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory made by `hardneg sample`.", show_default=False)],
    strategy: Annotated[
        Literal[tuple(STRATEGIES)],
        typer.Option(
            metavar=choices(STRATEGIES),
            help="How windows are assigned to subsets (see the README for what each measures).",
        ),
    ] = "group",
    test_size: Annotated[float, typer.Option(help="Share of windows (or groups, or time) for test.")] = 0.2,
    val_size: Annotated[float, typer.Option(help="Share for validation, taken from what is left for training.")] = 0.2,
    n_splits: Annotated[
        int | None, typer.Option(help="Make this many cross-validation folds instead of one holdout.")
    ] = None,
    gap_ms: Annotated[
        float | None,
        typer.Option(help="Purge gap for --strategy time (default: window length + the dataset's post-event zone)."),
    ] = None,
    test_groups: Annotated[
        str | None, typer.Option(help="With --strategy group: exactly these groups (comma-separated) are test.")
    ] = None,
    oversample_pos_to: Annotated[
        float | None, typer.Option(help="Repeat training positives until they are this share of training rows.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    name: Annotated[
        str | None,
        typer.Option(
            help="Split name (default: STRATEGY-sSEED, e.g. group-s0); not a strategy name, which "
            "`hardneg bench --splits` reads as a fresh split per seed.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a saved split of the same name.")] = False,
    deployment: Deployment = NEW_GROUPS,
    quiet: Quiet = False,
) -> None:
    """Split a dataset without leaking recordings, groups or time, save it, and audit it.

    Writes DIR/splits/NAME.parquet (fold, window_id, subset, copies), NAME.json (strategy, parameters, what it
    measures) and the audit NAME.audit.json / NAME.audit.md, and prints the audit.
    """
    from rich.console import Console

    from hardneg.audit import audit_paths, audit_split
    from hardneg.cli.common import print_audit, print_failed_audit, split_names
    from hardneg.dataset import Dataset
    from hardneg.errors import InputError
    from hardneg.split import check_both_classes, check_split_name, make_split, save_split

    loaded = Dataset.load(dataset)
    check_both_classes(loaded.labels)
    name = check_split_name(name if name is not None else f"{strategy}-s{seed}")
    if (loaded.path / "splits" / f"{name}.parquet").exists() and not overwrite:
        raise InputError(f"--name {name}: a split of that name exists in {loaded.path / 'splits'}; pass --overwrite")
    groups = split_names(test_groups)
    frame, info = make_split(
        loaded,
        strategy,
        test_size=test_size,
        val_size=val_size,
        n_splits=n_splits,
        gap_ms=gap_ms,
        test_groups=list(groups) if groups else None,
        seed=seed,
        oversample_pos_to=oversample_pos_to,
    )
    save_split(loaded.path, name, frame, info)
    audit_split(loaded.path, name, deployment=deployment)
    json_path = audit_paths(loaded.path, name)[0]
    if quiet:
        print_failed_audit(json_path)
        return
    console = Console()
    console.print(f"[bold]Split {name}[/bold] ({info.get('strategy', strategy)}): {info.get('measures', '')}")
    console.print(f"saved {loaded.path / 'splits' / (name + '.parquet')}")
    print_audit(json_path, console)


def register(app: typer.Typer) -> None:
    """Add ``hardneg split`` to ``app``."""
    app.command(no_args_is_help=True)(split)
