"""Atomic file writes: written beside the target and renamed, so a crash never leaves a half file that looks whole."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def _staging(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def write_bytes_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, creating its folder; return ``path``.

    Examples
    --------
    >>> write_bytes_atomic("out/stats.md", "# Stats\\n")  # doctest: +SKIP
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging(path)
    try:
        staging.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)  # only left when the write or the rename failed
    return path


def write_parquet_atomic(frame, path: str | Path) -> Path:
    """Write ``frame`` (a DataFrame, without its index, or a pyarrow Table) to ``path`` atomically; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging(path)
    try:
        if isinstance(frame, pd.DataFrame):
            frame.to_parquet(staging, index=False)
        else:
            import pyarrow.parquet as pq

            pq.write_table(frame, staging)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path
