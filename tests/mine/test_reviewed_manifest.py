"""``read_mined`` on a reviewed manifest: the confirmed negatives only; a mined folder is read as before."""

from __future__ import annotations

import pandas as pd
import pytest

from hardneg._schema import REVIEWED_COLUMNS, REVIEWED_FILE
from hardneg.errors import InputError
from hardneg.mine import is_reviewed, mined_source, read_mined, write_candidates, write_items


def reviewed_table() -> pd.DataFrame:
    return pd.DataFrame({
        "item": ["a", "a", "b", "c", "b"], "group": ["g", "g", "h", "k", "h"],
        "start_ms": [0.0, 500.0, 250.0, 0.0, 750.0], "end_ms": [500.0, 1000.0, 750.0, 500.0, 1250.0],
        "score": [0.9, 0.95, 0.7, 0.8, 0.7],
        "state": ["negative", "positive", "negative", "unsure", "negative"],
        "category": ["door", None, None, None, "door"], "reviewer": "ana", "decided_at": "2026-01-01T00:00:00Z",
        "path": ["/pool/a.csv", "/pool/a.csv", "/pool/b.csv", "/pool/c.csv", "/pool/b.csv"],
    })  # fmt: skip


def test_a_reviewed_manifest_gives_its_negatives_best_first(tmp_path):
    table = reviewed_table()
    (tmp_path / "export").mkdir()
    table.to_parquet(tmp_path / "export" / REVIEWED_FILE, index=False)
    for given in (tmp_path / "export", tmp_path / "export" / REVIEWED_FILE):
        assert is_reviewed(mined_source(given))
        windows, items = read_mined(given)
        expected = table[table["state"] == "negative"].sort_values(["score", "item", "start_ms"],
                                                                   ascending=[False, True, True])  # fmt: skip
        assert windows["recording"].tolist() == expected["item"].tolist()
        assert windows["start_ms"].tolist() == expected["start_ms"].tolist()
        assert items[["item", "path"]].values.tolist() == [["a", "/pool/a.csv"], ["b", "/pool/b.csv"],
                                                           ["c", "/pool/c.csv"]]  # fmt: skip
    windows, _ = read_mined(tmp_path / "export", tier=0.75, max_windows=5)
    assert windows["start_ms"].tolist() == [0.0]  # only a@0 reaches 0.75 among the negatives


def test_a_mined_folder_is_read_as_mined_even_with_a_manifest_beside(tmp_path):
    candidates = pd.DataFrame({"item": ["a"], "group": ["g"], "start_ms": [0.0], "end_ms": [500.0], "score": [0.6]})
    items = pd.DataFrame({"item": ["a"], "group": ["g"], "n_windows": [1], "max_score": [0.6], "mean_score": [0.6],
                          "topk_mean": [0.6], "argmax_ms": [0.0], "path": ["a.csv"]})  # fmt: skip
    write_candidates(candidates, tmp_path)
    write_items(items, tmp_path)
    reviewed_table().to_parquet(tmp_path / REVIEWED_FILE, index=False)
    assert not is_reviewed(mined_source(tmp_path))
    windows, _ = read_mined(tmp_path)
    assert windows.values.tolist() == [["a", 0.0, 500.0, 0.6]]


def test_a_manifest_without_its_columns_names_the_file(tmp_path):
    path = tmp_path / REVIEWED_FILE
    reviewed_table().drop(columns="state").to_parquet(path, index=False)
    with pytest.raises(InputError, match="state") as caught:
        read_mined(path)
    assert str(path) in str(caught.value)
    assert "state" in REVIEWED_COLUMNS
