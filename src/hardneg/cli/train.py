"""``hardneg train`` and ``hardneg predict``: one model, saved with its card, and its scores on a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from hardneg.cli.common import Quiet, choices
from hardneg.features import FEATURE_SETS
from hardneg.models import MODELS

__all__ = ["predict", "register", "train"]


def train(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory made by `hardneg sample`.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write (model.joblib, card.json).")],
    model: Annotated[Literal[MODELS], typer.Option(metavar=choices(MODELS), help="Model to fit.")] = "logreg",
    features: Annotated[
        Literal[FEATURE_SETS], typer.Option(metavar=choices(FEATURE_SETS), help="Features it sees.")
    ] = "summary",
    split: Annotated[
        str | None, typer.Option(help="Saved split to train on (default: a group holdout drawn with --seed).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out.")] = False,
    quiet: Quiet = False,
) -> None:
    """Fit one model on a split's training subset, choose its threshold on validation, and save it with a card."""
    from rich.console import Console

    from hardneg.bench import train_model

    trained = train_model(dataset, out, model=model, features=features, split=split, seed=seed, overwrite=overwrite)
    if quiet:
        return
    card = trained.card
    metrics = {name: ("n/a" if value is None else f"{value:.3f}") for name, value in card["validation_metrics"].items()}
    Console().print(
        f"saved {trained.path}: {card['model']} on {card['features']} features, threshold {card['threshold']:.3f} "
        f"(chosen on {card['threshold_chosen_on']}); validation ROC AUC {metrics['roc_auc']}, "
        f"AP {metrics['average_precision']}, F1 {metrics['f1_at_val_threshold']}"
    )


def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model directory made by `hardneg train`.", show_default=False)],
    dataset: Annotated[Path, typer.Argument(help="Dataset directory to score.", show_default=False)],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output Parquet (default: DIR/predictions.parquet).")
    ] = None,
    trust_model: Annotated[
        bool,
        typer.Option(
            "--trust-model",
            help="Allow loading model.joblib, a pickle: loading it runs code stored in it, so only pass this for "
            "models you made or trust.",
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Score every window of a dataset: writes window_id,score for `hardneg audit --predictions`.

    The model file is a pickle: loading it runs code, so it needs --trust-model. The dataset must have the
    channels (in the same order), sample rate and samples per window of the model's card.
    """
    from rich.console import Console

    from hardneg._atomic import write_parquet_atomic
    from hardneg.bench import predict as predict_windows

    predictions = predict_windows(model_dir, dataset, trust_model=trust_model)
    target = out or Path(dataset) / "predictions.parquet"
    write_parquet_atomic(predictions, target)
    if not quiet:
        Console().print(f"wrote {len(predictions)} scores to {target}")


def register(app: typer.Typer) -> None:
    """Add ``hardneg train`` and ``hardneg predict`` to ``app``."""
    app.command(no_args_is_help=True)(train)
    app.command(no_args_is_help=True)(predict)
