"""The mining outputs: written and read through hardneg.mine._manifest only."""

import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.mine._manifest import (
    read_candidates,
    read_items,
    read_mined,
    tier_path,
    write_candidates,
    write_items,
    write_tiers,
)
from hardneg.mine._select import item_table
from hardneg.mine._stats import statistics_markdown

WINDOWS = pd.DataFrame({"item": ["a", "a", "b"], "group": ["g", "g", "h"], "start_ms": [0.0, 500.0, 0.0],
                        "end_ms": [500.0, 1000.0, 500.0], "score": [0.9, 0.6, 0.95]})  # fmt: skip


def test_written_then_read_back(tmp_path):
    items = item_table(WINDOWS).assign(path=["b.csv", "a.csv"])
    write_candidates(WINDOWS, tmp_path)
    write_items(items, tmp_path)
    write_tiers(items, tmp_path, tiers=(0.5, 0.92))
    pd.testing.assert_frame_equal(read_candidates(tmp_path), WINDOWS)
    pd.testing.assert_frame_equal(read_items(tmp_path), items)
    assert tier_path(tmp_path, 0.92).read_text() == "item,group,max_score\nb,h,0.95\n"
    windows, _ = read_mined(tmp_path, tier=0.6, max_windows=2)
    assert windows.to_dict("list") == {"recording": ["b", "a"], "start_ms": [0.0, 0.0], "end_ms": [500.0, 500.0],
                                       "score": [0.95, 0.9]}  # fmt: skip


def test_bad_folders_and_options_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="candidates.parquet missing; make it with `hardneg mine`"):
        read_mined(tmp_path)
    WINDOWS.to_parquet(tmp_path / "candidates.parquet")
    with pytest.raises(InputError, match="items.parquet missing"):
        read_mined(tmp_path)
    pd.DataFrame({"item": ["a"], "group": ["g"]}).to_parquet(tmp_path / "items.parquet")
    with pytest.raises(InputError, match="no path column; mine again"):
        read_mined(tmp_path)
    pd.DataFrame({"item": ["a"], "group": ["g"], "path": ["a.csv"]}).to_parquet(tmp_path / "items.parquet")
    with pytest.raises(InputError, match="max_windows must be") as caught:
        read_mined(tmp_path, max_windows=-1)
    assert caught.value.parameter == "max_windows"
    WINDOWS.drop(columns="score").to_parquet(tmp_path / "candidates.parquet")
    with pytest.raises(InputError, match="column 'score' missing"):
        read_candidates(tmp_path)
    with pytest.raises(InputError, match="column 'score' missing"):
        write_candidates(WINDOWS.drop(columns="score"), tmp_path / "new")


def test_build_dataset_checks_hard_options_under_its_own_names(tmp_path):
    from hardneg.build import _read_hard_negatives

    with pytest.raises(InputError, match="hard_tier must be") as caught:
        _read_hard_negatives(tmp_path, 1.5, None, [], None, None)
    assert caught.value.parameter == "hard_tier"
    with pytest.raises(InputError, match="hard_max must be"):
        _read_hard_negatives(tmp_path, None, -1, [], None, None)


def test_stats_markdown_keeps_its_plain_table_rules():
    text = statistics_markdown({"n_windows": 1, "n_items": 1, "tiers": [{"label": "0.50", "items": 1, "windows": 1}]})
    assert text == ("# Mining statistics\n\n1 windows scored over 1 items.\n\n## Tiers\n\n"
                    "| tier | items | windows |\n|---|---|---|\n| ≥ 0.50 | 1 | 1 |\n")  # fmt: skip
