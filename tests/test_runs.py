"""Resumable run folders (hardneg._runs) and staged writes (hardneg._atomic.staged_files)."""

import json
import os

import pytest

from hardneg._atomic import staged_files
from hardneg._runs import RunFolder, part_name
from hardneg.errors import InputError


def mine_folder(path):
    return RunFolder(path, "mine.json", "mine", scratch=("shards",), reuse_unstarted=True)


def bench_folder(path):
    return RunFolder(path, "bench.parameters.json", "bench", scratch=("parts",), resume_when_same=True)


def test_a_fresh_folder_gets_its_scratch_folders_and_the_stamp(tmp_path):
    folder = mine_folder(tmp_path / "out")
    assert folder.prepare({"a": 1, "b": [1, 2]}) is False
    assert (tmp_path / "out" / "shards").is_dir()
    assert (tmp_path / "out" / "mine.json").read_text() == json.dumps({"a": 1, "b": [1, 2]}, indent=2) + "\n"


def test_resume_when_asked(tmp_path):
    out = tmp_path / "out"
    folder = mine_folder(out)
    folder.prepare({"a": 1, "b": 2})
    (out / "shards" / "x.parquet").write_bytes(b"part")
    with pytest.raises(InputError, match="pass --resume to continue it or --overwrite"):
        folder.prepare({"a": 1, "b": 2})
    assert folder.prepare({"a": 1, "b": 2}, resume=True) is True
    assert (out / "shards" / "x.parquet").is_file()
    with pytest.raises(InputError, match=r"other options \(--b, --c\)"):
        folder.prepare({"a": 1, "b": 3, "c": 0}, resume=True)
    assert folder.prepare({"a": 5}, overwrite=True) is False
    assert not (out / "shards" / "x.parquet").exists() and folder.read_stamp() == {"a": 5}
    (out / "mine.json").unlink()
    (out / "notes.txt").write_text("")
    with pytest.raises(InputError, match="mine.json missing"):
        folder.prepare({"a": 5}, resume=True)


def test_a_folder_prepared_but_never_worked_in_is_reused(tmp_path):
    out = tmp_path / "out"
    (out / "shards").mkdir(parents=True)
    (out / "mine.json").write_text("{}\n")
    assert mine_folder(out).unstarted()
    assert mine_folder(out).prepare({"a": 1}) is False
    assert mine_folder(out).read_stamp() == {"a": 1}
    (out / "shards" / "x.parquet").write_bytes(b"")
    assert not mine_folder(out).unstarted()


def test_resume_when_the_stamp_matches(tmp_path):
    out = tmp_path / "out"
    folder = bench_folder(out)
    assert folder.prepare({"seeds": 2}) is False
    (out / "parts" / "x.parquet").write_bytes(b"")
    assert folder.prepare({"seeds": 2}) is True
    with pytest.raises(InputError, match="holds a bench run with other parameters"):
        folder.prepare({"seeds": 3})
    assert folder.prepare({"seeds": 3}, overwrite=True) is False
    assert not (out / "parts" / "x.parquet").exists()
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("")
    with pytest.raises(InputError, match="is not a bench folder"):
        bench_folder(stranger).prepare({"seeds": 2})
    # only the stamp, of other parameters: refused, not reused (bench does not reuse unstarted folders)
    (out / "parts").rmdir()
    with pytest.raises(InputError, match="other parameters"):
        folder.prepare({"seeds": 4})


@pytest.mark.parametrize("make", [mine_folder, bench_folder])
def test_a_file_in_the_way_is_refused(tmp_path, make):
    (tmp_path / "out").write_text("")
    with pytest.raises(InputError, match="exists and is not a directory"):
        make(tmp_path / "out").prepare({})


def test_part_names_are_stable():
    assert part_name("logreg|summary|group|0") == "f057e5e1cd58da21"
    assert len(part_name("x", 20)) == 20


def test_staged_files_replace_in_order_or_not_at_all(tmp_path, monkeypatch):
    first, last = tmp_path / "first", tmp_path / "last"
    with pytest.raises(RuntimeError):
        with staged_files(first, last) as (a, b):
            a.write_text("1")
            raise RuntimeError("killed")
    assert os.listdir(tmp_path) == []
    replaced = []
    real = os.replace
    monkeypatch.setattr("hardneg._atomic.os.replace", lambda s, d: (replaced.append(os.path.basename(d)), real(s, d)))
    with staged_files(first, last) as (a, b):
        a.write_text("1")
        b.write_text("2")
    assert replaced == ["first", "last"]
    assert sorted(os.listdir(tmp_path)) == ["first", "last"]
