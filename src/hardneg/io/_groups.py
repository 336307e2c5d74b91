"""Groups: the unit a split must keep together (session, subject, patient, recorder, video)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from hardneg.errors import InputError
from hardneg.io._recording import Recording
from hardneg.io._tables import describe_row, read_table, require_columns


def read_groups_csv(path: str | Path) -> dict[str, str]:
    """Read a ``recording,group`` table into a mapping.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp, "groups.csv")
    ...     _ = path.write_text("recording,group\\ns01,shooter_a\\ns02,shooter_a\\ns03,shooter_b\\n")
    ...     read_groups_csv(path)
    {'s01': 'shooter_a', 's02': 'shooter_a', 's03': 'shooter_b'}
    """
    path = Path(path)
    table = read_table(path, string_columns=("recording", "group"))
    require_columns(table, path, ("recording", "group"), "groups need columns recording,group")
    recordings = pc.cast(table.column("recording"), pa.string()).to_pylist()
    groups = pc.cast(table.column("group"), pa.string()).to_pylist()
    mapping: dict[str, str] = {}
    for row, (recording, group) in enumerate(zip(recordings, groups)):
        if recording is None or group is None:
            raise InputError(f"{path}: empty recording or group at {describe_row(path, row)}")
        if recording in mapping and mapping[recording] != group:
            raise InputError(
                f"{path}: recording {recording!r} is given two groups ({mapping[recording]!r} and {group!r}) "
                f"at {describe_row(path, row)}"
            )
        mapping[recording] = group
    return mapping


def resolve_groups(recordings: Sequence[Recording], groups: Mapping[str, str] | str | Path | None) -> None:
    """Set each recording's group from a mapping or a groups CSV (in place).

    Every recording must appear: a silent fallback to the recording id would
    hide exactly the leakage that groups exist to prevent.
    """
    if groups is None:
        return
    source = str(groups) if isinstance(groups, (str, Path)) else "the groups mapping"
    mapping = read_groups_csv(groups) if isinstance(groups, (str, Path)) else dict(groups)
    missing = [r.id for r in recordings if r.id not in mapping]
    if missing:
        shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
        raise InputError(f"{source}: no group for recording(s) {shown}; add a recording,group row for each")
    for recording in recordings:
        recording.group = str(mapping[recording.id])
