"""``hardneg export``: write what the review decided as a manifest, YOLO or COCO backgrounds, or a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hardneg.cli.common import Quiet, choices

__all__ = ["export", "register"]

#: the formats, as the library names them (kept here too so `--help` needs no library import)
FORMATS = ("manifest", "yolo", "coco", "dataset")


def export(
    mined_dir: Annotated[
        Path, typer.Argument(help="A `hardneg mine` folder you reviewed with `hardneg review`.", show_default=False)
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar=choices(FORMATS),
            help="manifest: OUT/reviewed.parquet and a CSV per state and category. yolo: background images with "
            "empty label files and data.yaml. coco: background images in annotations.json, no annotations. "
            "dataset: the confirmed negatives as hard negatives of a dataset built like --like.",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The folder to write.", show_default=False)],
    states: Annotated[
        str, typer.Option(help="The decisions to export, comma-separated: negative, positive, unsure, skip.")
    ] = "negative",
    categories: Annotated[
        str | None,
        typer.Option(help="Only these categories, comma-separated (uncategorised: decided without one)."),
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option(
            help="yolo: an existing YOLO dataset (folder with data.yaml); OUT becomes a new dataset with its files "
            "(hard-linked where possible, the original is not changed) plus the backgrounds in its train folder. "
            "coco: a COCO file whose categories to copy.",
        ),
    ] = None,
    background_share: Annotated[
        float | None,
        typer.Option(
            help="With --into: add backgrounds, highest scores first, until they are this share of the train "
            "images (0.1: one image in ten); a warning when fewer were confirmed.",
        ),
    ] = None,
    like: Annotated[
        Path | None,
        typer.Option(
            help="dataset: the labelled dataset (a `hardneg sample` folder) to build again with the confirmed "
            "negatives, as `hardneg sample --like DATASET --hard-negatives` does.",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
    quiet: Quiet = False,
) -> None:
    """Write the reviewed candidates where training needs them.

    The decisions are the latest of each candidate in MINED_DIR/review.sqlite (undone ones do not count).
    Every format also lists the candidates marked positive, real events the labels missed, in
    OUT/label_errors.csv. OUT is written whole or not at all.
    """
    from hardneg._progress import RichProgress
    from hardneg.cli.common import split_names
    from hardneg.review import export_review

    with RichProgress(enabled=not quiet) as progress:
        result = export_review(
            mined_dir, out, fmt, states=split_names(states) or (), categories=split_names(categories), into=into,
            background_share=background_share, like=like, overwrite=overwrite, progress=progress,
        )  # fmt: skip
    for warning in result.warnings:
        typer.echo(f"warning: {_flags(warning)}", err=True)
    if not quiet:
        _print_summary(result)


def _flags(text: str) -> str:
    from hardneg.cli.common import flagged

    return flagged(text, {"background_share": "--background-share"})


def _print_summary(result) -> None:
    total = sum(sum(by.values()) for by in result.counts.values())
    parts = []
    for state, by in result.counts.items():
        categories = ", ".join(f"{name} {count}" for name, count in by.items())
        parts.append(f"{state} {sum(by.values())} ({categories})")
    typer.echo(f"exported {total} candidates as {result.fmt} to {result.out}: {'; '.join(parts)}")
    shots = result.backgrounds
    if shots:
        typer.echo(
            f"  backgrounds: {shots['used']} of {shots['available']} available added to {shots['existing']} "
            f"images (share {shots['share']:.3f})"
        )
    typer.echo(f"  marked positive (label errors): {result.label_errors} in {result.out / 'label_errors.csv'}")


def register(app: typer.Typer) -> None:
    """Add ``hardneg export`` to ``app``."""
    app.command(no_args_is_help=True)(export)
