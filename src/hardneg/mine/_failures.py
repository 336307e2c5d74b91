"""Why pool items failed: their error records grouped into reasons, and the one error of a run where all failed.

An item's error message starts with its path (``pool/a.csv: --time-col 't_ms' not found``)
or names the model (``model m.onnx: input 'x' takes shape ...``), and may hold numbers
that differ per item (a batch size, a sample count); two messages are the same reason
when they are equal once the path is cut and every number is blanked.

Examples
--------
>>> import pandas as pd
>>> errors = pd.DataFrame({"item": ["a", "b", "c"], "path": ["p/a.csv", "p/b.csv", "p/c.csv"],
...                        "error": ["p/a.csv: column 'x' not found", "p/b.csv: column 'x' not found",
...                                  "model m.py:make: returned shape (7, 2) for a batch of 7 windows"]})
>>> [(reason.count, reason.text, reason.path) for reason in failure_reasons(errors)]
[(2, "column 'x' not found", 'p/a.csv'), (1, 'model m.py:make: returned shape (7, 2) for a batch of 7 windows', 'p/c.csv')]
>>> print(every_item_failed(errors))
every pool item failed (3 items; 2 this way, 1 for 1 other reason): p/a.csv: column 'x' not found
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from hardneg.errors import InputError

__all__ = ["FailureReason", "every_item_failed", "failure_reasons"]

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class FailureReason:
    """One reason items failed: how many, the message of the first such item without its path, and that path."""

    count: int
    text: str
    path: str
    message: str  # the first such item's whole message, as in errors.csv


def _without_path(message: str, path: str) -> str:
    prefix = f"{path}: "
    return message[len(prefix) :] if path and message.startswith(prefix) else message


def failure_reasons(errors: pd.DataFrame, limit: int | None = None) -> list[FailureReason]:
    """The distinct reasons in an errors table (``item, path, error``), most common first, ties in table order.

    Parameters
    ----------
    errors : DataFrame
        As ``errors.csv`` holds them (:attr:`hardneg.mine.MineResult.errors`).
    limit : int, optional
        Keep only the first ``limit`` reasons.
    """
    groups: dict[str, list] = {}
    for path, message in zip(errors["path"].astype(str), errors["error"].astype(str)):
        text = _without_path(message, path)
        key = _NUMBER.sub("#", text)
        if key in groups:
            groups[key][0] += 1
        else:
            groups[key] = [1, text, path, message]
    # sorted() is stable, so reasons with equal counts stay in the order their first item came
    reasons = sorted((FailureReason(*values) for values in groups.values()), key=lambda reason: -reason.count)
    return reasons if limit is None else reasons[:limit]


def every_item_failed(errors: pd.DataFrame) -> InputError:
    """The error a run stops with when no pool item could be scored: the most common reason, as its first item said it.

    The reason names the file or option to fix (``--time-col``, the model, a missing package), so the message
    passes it on whole.
    """
    reasons = failure_reasons(errors)
    top = reasons[0]
    count = f"{len(errors)} items" if len(errors) != 1 else "1 item"
    if len(reasons) > 1:
        others = len(errors) - top.count
        count += (
            f"; {top.count} this way, {others} for {len(reasons) - 1} other reason{'s' if len(reasons) > 2 else ''}"
        )
    return InputError(f"every pool item failed ({count}): {top.message}")
