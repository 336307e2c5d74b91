"""Which reader a file goes to, by its suffix: the one table that sampling, mining and snapshots ask.

A *format* is a name and the suffixes (lower case, with the dot) of the files
one reader takes: ``csv`` and ``parquet`` (sensor logs, :func:`~hardneg.io.read_sensor_logs`),
``wfdb`` (a record's ``.hea`` header, or its name without a suffix,
:func:`~hardneg.io.read_wfdb_records`), ``audio``
(:func:`~hardneg.io.read_audio_recordings`), ``video`` (:mod:`hardneg.io._video`)
and ``image`` (:mod:`hardneg.io._images`). A new reader registers its format
with :func:`register_format`.

Examples
--------
>>> format_of("logs/s01.CSV"), format_of("mitdb/100.hea"), format_of("mitdb/100"), format_of("cam.mp4")
('csv', 'wfdb', 'wfdb', 'video')
>>> format_of("notes.md") is None
True
>>> sorted(suffixes_of("parquet"))
['.parquet', '.pq']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hardneg.io._audio import AUDIO_SUFFIXES
from hardneg.io._images import IMAGE_SUFFIXES
from hardneg.io._tables import CSV_SUFFIXES, PARQUET_SUFFIXES
from hardneg.io._video import VIDEO_SUFFIXES

__all__ = ["FORMATS", "WFDB_SUFFIXES", "format_of", "register_format", "suffixes_of"]

#: A WFDB record is named by its header, or by its name alone.
WFDB_SUFFIXES = frozenset({".hea", ""})

#: format name -> the suffixes of its files, in registration order
FORMATS: dict[str, frozenset[str]] = {}


def register_format(name: str, suffixes: Iterable[str]) -> None:
    """Send files with ``suffixes`` to the reader called ``name``; a suffix belongs to one format only."""
    suffixes = frozenset(suffix.lower() for suffix in suffixes)
    for other, taken in FORMATS.items():
        if other != name and suffixes & taken:
            raise ValueError(f"suffixes {sorted(suffixes & taken)} already belong to format {other!r}")
    FORMATS[name] = suffixes


def format_of(path: str | Path) -> str | None:
    """The format of ``path`` by its suffix (case-insensitive), or ``None`` when no reader takes it."""
    suffix = Path(path).suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    return None


def suffixes_of(*names: str) -> frozenset[str]:
    """Every suffix of the formats ``names``."""
    return frozenset().union(*(FORMATS[name] for name in names))


register_format("csv", CSV_SUFFIXES)
register_format("parquet", PARQUET_SUFFIXES)
register_format("wfdb", WFDB_SUFFIXES)
register_format("audio", AUDIO_SUFFIXES)
register_format("video", VIDEO_SUFFIXES)
register_format("image", IMAGE_SUFFIXES)
