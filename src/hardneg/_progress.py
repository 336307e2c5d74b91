"""Progress reporting that library code can use without depending on a terminal.

Library functions take ``progress=None`` (silent) or a :class:`RichProgress`;
the command line passes the latter so long work shows a bar on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class ProgressReporter(Protocol):
    def track(
        self,
        iterable: Iterable[T],
        *,
        total: int | None,
        description: str,
        status: Callable[[], str] | None = None,
    ) -> Iterator[T]:
        """Yield from ``iterable``, advancing a bar; ``status()`` (rates, counts) is shown beside it."""


class NullProgress:
    """Reports nothing; the default for the Python API."""

    def track(
        self, iterable: Iterable[T], *, total: int | None = None, description: str = "", status=None
    ) -> Iterator[T]:
        yield from iterable


class RichProgress:
    """A rich progress bar on stderr, used as a context manager by the CLI."""

    def __init__(self, enabled: bool = True):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        # Off a terminal (CI logs, pipes) a bar's final frame is noise around the real output.
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            disable=not (enabled and console.is_terminal),
            transient=False,
        )

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._progress.stop()

    def track(
        self,
        iterable: Iterable[T],
        *,
        total: int | None = None,
        description: str = "",
        status: Callable[[], str] | None = None,
    ) -> Iterator[T]:
        task = self._progress.add_task(description, total=total, status="")
        for value in iterable:
            yield value
            self._progress.update(task, advance=1, status=status() if status is not None else "")


def resolve(progress: ProgressReporter | None) -> ProgressReporter:
    return NullProgress() if progress is None else progress
