"""Atomic file writes: written beside the target and renamed, so a crash never leaves a half file that looks whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

__all__ = ["replace_dir", "staged_files", "write_bytes_atomic", "write_parquet_atomic"]


def _staging(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextmanager
def staged_files(*paths: str | Path) -> Iterator[tuple[Path, ...]]:
    """Staging paths beside ``paths``: write them in the block; when it ends, each replaces its target, in order.

    The targets are replaced only when the block ends without an error, one after the
    other, so the presence of the last one marks the whole set written. Staging files
    left by an error (in the block or a rename) are removed. Folders are not created.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with staged_files(folder / "data.txt", folder / "done.txt") as (data, done):
    ...     _ = data.write_text("rows"), done.write_text("ok")
    >>> sorted(path.name for path in folder.iterdir())
    ['data.txt', 'done.txt']
    """
    targets = [Path(path) for path in paths]
    staging = tuple(_staging(path) for path in targets)
    try:
        yield staging
        for staged, target in zip(staging, targets, strict=True):
            os.replace(staged, target)
    finally:
        for staged in staging:
            staged.unlink(missing_ok=True)  # only left when a write or a rename failed


def write_bytes_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, creating its folder; return ``path``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_bytes_atomic(Path(tmp) / "out" / "stats.md", "# Stats\\n")
    ...     path.name, path.read_text(), sorted(p.name for p in path.parent.iterdir())
    ('stats.md', '# Stats\\n', ['stats.md'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged_files(path) as (staging,):
        staging.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def write_parquet_atomic(frame, path: str | Path) -> Path:
    """Write ``frame`` (a DataFrame, without its index, or a pyarrow Table) to ``path`` atomically; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged_files(path) as (staging,):
        if isinstance(frame, pd.DataFrame):
            frame.to_parquet(staging, index=False)
        else:
            import pyarrow.parquet as pq

            pq.write_table(frame, staging)
    return path


def replace_dir(staging: str | Path, out: str | Path) -> None:
    """Rename the finished folder ``staging`` to ``out``; an old ``out`` is removed only once the new one is there.

    Both must be on one filesystem (``staging`` beside ``out``), so each rename is atomic: a crash leaves the
    old folder, the new one, or the old one under a hidden ``.NAME.replaced-PID`` name, never a half-written ``out``.
    """
    import shutil

    staging, out = Path(staging), Path(out)
    previous = None
    if out.exists():
        previous = out.parent / f".{out.name}.replaced-{os.getpid()}"
        shutil.rmtree(previous, ignore_errors=True)
        out.rename(previous)
    staging.rename(out)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
