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
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
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
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        kind = "Parquet" if suffix in PARQUET_SUFFIXES else "CSV"
        raise InputError(f"{path}: cannot be read as {kind} ({reason}); check that the file is complete") from None
    raise InputError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet (or .hea for WFDB records)")


def describe_row(path: Path, row: int) -> str:
    """Where a 0-based data row is, in the words a person opening the file would use."""
    if Path(path).suffix.lower() in CSV_SUFFIXES:
        return f"line {row + 2}"  # the header is line 1
    return f"row {row}"
