"""Reading CSV and Parquet tables with pyarrow, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from hardneg.errors import InputError

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


def read_table(path: str | Path, *, string_columns: tuple[str, ...] = ()) -> pa.Table:
    """Read a CSV or Parquet file into an Arrow table.

    Parameters
    ----------
    path : path
        ``.csv``/``.tsv``/``.txt`` or ``.parquet``/``.pq``.
    string_columns : tuple of str
        Columns to read as text even when they look numeric (ids such as ``100``).

    Raises
    ------
    InputError
        If the file is missing, empty, has an unknown suffix or cannot be parsed.

    Examples
    --------
    >>> read_table("logs/s01.csv").column_names  # doctest: +SKIP
    ['t_ms', 'ax', 'ay', 'az']
    """
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            table = pq.read_table(path)
            for name in string_columns:
                if name in table.column_names and not pa.types.is_string(table.schema.field(name).type):
                    index = table.column_names.index(name)
                    table = table.set_column(index, name, table.column(name).cast(pa.string()))
            return table
        if suffix in CSV_SUFFIXES:
            delimiter = "\t" if suffix == ".tsv" else ","
            return pa_csv.read_csv(
                path,
                parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in string_columns}),
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as error:
        raise _unreadable(path, "Parquet" if suffix in PARQUET_SUFFIXES else "CSV", error) from None
    raise InputError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet (or .hea for WFDB records)")


class LazyParquet:
    """A Parquet file that reads one column at a time when asked.

    It offers the part of :class:`pyarrow.Table` the readers use (``column_names``,
    ``num_rows``, ``schema``, ``column``), so a 24-hour log is never held twice:
    each column is converted to numpy and its Arrow buffers are released.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        _check_file(self.path)
        try:
            self._file = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as error:
            raise _unreadable(self.path, "Parquet", error) from None
        self.schema = self._file.schema_arrow
        self.column_names = self.schema.names
        self.num_rows = self._file.metadata.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        try:
            return self._file.read(columns=[name], use_threads=True).column(0)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as error:
            raise _unreadable(self.path, "Parquet", error) from None


def open_columns(path: str | Path, *, whole: bool = False):
    """A Parquet file as a :class:`LazyParquet`, anything else (or ``whole=True``) as a read table."""
    if Path(path).suffix.lower() in PARQUET_SUFFIXES and not whole:
        return LazyParquet(path)
    return read_table(path)


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")


def _unreadable(path: Path, kind: str, error: Exception) -> InputError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return InputError(f"{path}: cannot be read as {kind} ({reason}); check that the file is complete")


def describe_row(path: Path, row: int) -> str:
    """Where a 0-based data row is, in the words a person opening the file would use."""
    if Path(path).suffix.lower() in CSV_SUFFIXES:
        return f"line {row + 2}"  # the header is line 1
    return f"row {row}"
