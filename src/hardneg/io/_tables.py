"""Reading CSV and Parquet tables with pyarrow, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = Path(f"{tmp}/s01.csv").write_text("t_ms,ax,ay,az\\n0,0.1,0.0,9.8\\n10,0.2,0.0,9.7\\n")
    ...     table = read_table(f"{tmp}/s01.csv")
    >>> table.column_names, table.num_rows
    (['t_ms', 'ax', 'ay', 'az'], 2)
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
            delimiter = "\t" if suffix == ".tsv" else text_delimiter(path) if suffix == ".txt" else ","
            if delimiter is None:
                return _whitespace_table(path, string_columns)
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

    #: Files up to this size (uncompressed) are read in one call, all columns in parallel, which is faster;
    #: larger ones column by column, so that the Arrow copy of only one column is alive at a time.
    WHOLE_READ_BYTES = 256 * 2**20

    def __init__(self, path: str | Path):
        self.path = Path(path)
        _check_file(self.path)
        try:
            self._file = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as error:
            raise _unreadable(self.path, "Parquet", error) from None
        self.schema = self._file.schema_arrow
        self.column_names = self.schema.names
        metadata = self._file.metadata
        self.num_rows = metadata.num_rows
        size = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        self._read_whole = size <= self.WHOLE_READ_BYTES
        self._columns: dict[str, pa.ChunkedArray] | None = None  # the whole read, until each column is taken

    def column(self, name: str) -> pa.ChunkedArray:
        # Arrow's allocator keeps freed buffers for reuse a while; the caller's numpy copies come from another
        # allocator, so the column converted before this one would otherwise stay in memory beside them.
        pa.default_memory_pool().release_unused()
        try:
            if self._read_whole and self._columns is None:  # once: a column asked for again is read alone
                table = self._file.read(use_threads=True)
                self._columns = dict(zip(table.column_names, table.columns, strict=True))
            if self._columns and name in self._columns:
                return self._columns.pop(name)  # handed over once, so its memory goes with the caller's copy
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


def require_columns(table, path: Path, required: tuple[str, ...], what: str) -> None:
    """Refuse a table that lacks one of ``required``, naming the file, the column and what it has."""
    for name in required:
        if name not in table.column_names:
            raise InputError(f"{path}: {what}; {name!r} not found among: {', '.join(table.column_names)}")


def describe_row(path: Path, row: int) -> str:
    """Where a 0-based data row is, in the words a person opening the file would use."""
    if Path(path).suffix.lower() in CSV_SUFFIXES:
        return f"line {row + 2}"  # the header is line 1
    return f"row {row}"


_MS_PER_UNIT = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}


def is_temporal(data_type: pa.DataType) -> bool:
    return pa.types.is_timestamp(data_type) or pa.types.is_duration(data_type)


def column_as_float(
    column: pa.ChunkedArray,
    path: Path,
    name: str,
    *,
    what: str,
    hint: str,
    temporal: bool = False,
    keep_float32: bool = False,
) -> np.ndarray:
    """A column as float64 (nulls as NaN), or an InputError naming the first value that is not a number.

    With ``temporal=True``, date-time and duration columns become milliseconds
    (since the epoch for date-times); otherwise they are refused. With
    ``keep_float32=True``, a float32 (or float16) column stays float32, at half
    the memory of float64 (channels, not timestamps: float32 holds 6 hours of
    milliseconds only to about 2 ms).

    Examples
    --------
    >>> column = pa.chunked_array([pa.array([0.5, None], pa.float32())])
    >>> column_as_float(column, Path("s01.parquet"), "ax", what="channel", hint="", keep_float32=True)
    array([0.5, nan], dtype=float32)
    >>> column_as_float(column, Path("s01.parquet"), "ax", what="channel", hint="").dtype
    dtype('float64')
    """
    data_type = column.type
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type) or pa.types.is_boolean(data_type):
        if pa.types.is_float64(data_type) and column.null_count == 0:
            return column.to_numpy()  # no copy for a single chunk
        if keep_float32 and (pa.types.is_float32(data_type) or pa.types.is_float16(data_type)):
            if pa.types.is_float32(data_type) and column.null_count == 0:
                return column.to_numpy()  # no copy for a single chunk
            return pc.cast(column, pa.float32()).to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if pa.types.is_null(data_type):
        return np.full(len(column), np.nan)
    if is_temporal(data_type):
        if not temporal:
            raise InputError(f"{path}: {what} {name!r} holds dates/times, not numbers; {hint}")
        counts = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
        return counts * _MS_PER_UNIT[data_type.unit]
    if not (pa.types.is_string(data_type) or pa.types.is_large_string(data_type)):
        raise InputError(f"{path}: {what} {name!r} has type {data_type}, not numbers; {hint}")
    raw = column.to_numpy(zero_copy_only=False)
    values = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(np.float64)
    text = pd.Series(raw).astype(str).str.strip()
    bad = np.flatnonzero(np.isnan(values) & pd.notna(raw) & (text != "").to_numpy())
    if len(bad):
        row = int(bad[0])
        raise InputError(
            f"{path}: non-numeric value {str(raw[row])!r} in {what} {name!r} at {describe_row(path, row)}; {hint}"
        )
    return values


def text_delimiter(path: Path) -> str | None:
    """What separates the columns of a ``.txt`` table, read off its header line: ``,``, tab or ``;``, or None for
    runs of spaces (as many instruments and ``rdsamp`` export them).

    A ``.txt`` is a table a user exported or renamed, so it is read as one, not as a comma-separated file that
    then has one column and "no data rows".
    """
    with open(path, "rb") as file:
        head = file.read(65536).decode("utf-8", errors="replace")
    lines = [line for line in head.splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if len(lines) < 2:
        raise InputError(
            f"{path}: a .txt file is read as a table (a first line naming the columns, then one line per sample), "
            f"but it holds one line, {line[:60]!r}; inputs are tables (.csv, .tsv, .txt, .parquet), WFDB records "
            "(.hea) and audio (.wav, .flac)"
        )
    for delimiter in (",", "\t", ";"):
        if delimiter in line:
            return delimiter
    if len(line.split()) >= 2:
        return None
    raise InputError(
        f"{path}: a .txt file is read as a table whose first line names its columns (t_ms, ax, ... separated by "
        f"commas, tabs, semicolons or spaces), but its first line is {line[:60]!r}; inputs are tables (.csv, .tsv, "
        ".txt, .parquet), WFDB records (.hea) and audio (.wav, .flac)"
    )


def _whitespace_table(path: Path, string_columns: tuple[str, ...]) -> pa.Table:
    try:
        frame = pd.read_csv(path, sep=r"\s+", dtype={name: str for name in string_columns})
    except (ValueError, OSError) as error:  # pandas' ParserError is a ValueError
        raise _unreadable(path, "a table of columns separated by spaces", error) from None
    return pa.Table.from_pandas(frame, preserve_index=False)
