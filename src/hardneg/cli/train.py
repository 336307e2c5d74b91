"""``hardneg train`` and ``hardneg predict``: one model, saved with its card, and its scores on a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from hardneg.cli.common import input_errors_exit_2


def train(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory made by `hardneg sample`.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write (model.joblib, card.json).")],
    model: Annotated[str, typer.Option(help="logreg, et or mlp.")] = "logreg",
    features: Annotated[str, typer.Option(help="Feature set: summary or rich.")] = "summary",
    split: Annotated[
        Optional[str], typer.Option(help="Saved split to train on (default: a group holdout drawn with --seed).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out.")] = False,
) -> None:
    """Fit one model on a split's training subset, choose its threshold on validation, and save it with a card."""
    from hardneg.bench.train import train_model

    with input_errors_exit_2():
        trained = train_model(dataset, out, model=model, features=features, split=split, seed=seed, overwrite=overwrite)
        card = trained.card
        metrics = {
            name: ("n/a" if value is None else f"{value:.3f}") for name, value in card["validation_metrics"].items()
        }
        Console().print(
            f"saved {trained.path}: {card['model']} on {card['features']} features, threshold {card['threshold']:.3f} "
            f"(chosen on {card['threshold_chosen_on']}); validation ROC AUC {metrics['roc_auc']}, "
            f"AP {metrics['average_precision']}, F1 {metrics['f1_at_val_threshold']}"
        )


def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model directory made by `hardneg train`.", show_default=False)],
    dataset: Annotated[Path, typer.Argument(help="Dataset directory to score.", show_default=False)],
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Output Parquet (default: DIR/predictions.parquet).")
    ] = None,
) -> None:
    """Score every window of a dataset: writes window_id,score for `hardneg audit --predictions`.

    The model file is a pickle: loading it runs code, so only score with models you made or trust.
    """
    from hardneg._atomic import write_parquet_atomic
    from hardneg.bench.train import predict as predict_windows

    with input_errors_exit_2():
        predictions = predict_windows(model_dir, dataset)
        target = out or Path(dataset) / "predictions.parquet"
        write_parquet_atomic(predictions, target)
        Console().print(f"wrote {len(predictions)} scores to {target}")
