"""The suffix dispatch sends every file where sampling and mining sent it before there was one table."""

from pathlib import Path

import pytest

from hardneg.io._formats import FORMATS, format_of, register_format, suffixes_of
from hardneg.score import POOL_KINDS, pool_kind_of


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("s01.csv", "csv"), ("s01.TSV", "csv"), ("s01.txt", "csv"), ("s01.parquet", "parquet"), ("s01.pq", "parquet"),
        ("100.hea", "wfdb"), ("100", "wfdb"), ("r.wav", "audio"), ("r.flac", "audio"), ("r.ogg", "audio"),
        ("r.aiff", "audio"), ("r.aif", "audio"), ("c.mp4", "video"), ("c.MOV", "video"), ("c.mkv", "video"),
        ("c.avi", "video"), ("f.jpg", "image"), ("f.jpeg", "image"), ("f.png", "image"), ("notes.md", None),
        ("100.dat", None),
    ],
)  # fmt: skip
def test_format_of_each_suffix(name, expected):
    assert format_of(Path("data") / name) == expected


def test_pools_read_sensor_logs_only_by_their_own_suffixes():
    # a pool folder's notes.txt or a stray .pq is not taken for a sensor log
    assert POOL_KINDS["sensor"].suffixes == {".csv", ".parquet", ".hea"}
    assert [pool_kind_of(Path(name)) for name in ("notes.txt", "a.tsv", "a.pq", "100")] == [None] * 4
    for kind in ("audio", "video", "image"):
        assert POOL_KINDS[kind].suffixes == suffixes_of(kind)


def test_a_suffix_belongs_to_one_format():
    with pytest.raises(ValueError, match="already belong to format 'csv'"):
        register_format("another_csv", {".csv"})
    assert "another_csv" not in FORMATS
