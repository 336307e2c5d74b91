"""Items that fail, runs that keep nothing, Ctrl-C: what :func:`hardneg.mine.mine` raises and reports."""

from __future__ import annotations

import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.mine import MineInterrupted, MineOptions, every_item_failed, failure_reasons, mine
from tests.helpers.synth import burst_pool

SCORERS = """
from pathlib import Path

import numpy as np

CALLS = {"n": 0}
STOPPED = Path(__file__).with_name("stopped")  # one Ctrl-C per test, though each run imports this file afresh

def make():
    return lambda batch: np.abs(batch).mean(axis=(1, 2))

def wrong_shape():
    return lambda batch: np.zeros((len(batch), 2))

def ctrl_c_on_the_second_item():
    def score(batch):
        CALLS["n"] += 1
        if CALLS["n"] == 2 and not STOPPED.exists():
            STOPPED.touch()
            raise KeyboardInterrupt
        return np.abs(batch).mean(axis=(1, 2))

    return score
"""


@pytest.fixture
def pool(tmp_path):
    """Three 10 s logs at 100 Hz, silent but for one burst each (loudness 0.5, 0.7, 0.9)."""
    folder = burst_pool(tmp_path / "pool")
    (tmp_path / "scorers.py").write_text(SCORERS)
    return folder, tmp_path / "scorers.py"


def test_reasons_are_grouped_without_paths_and_numbers_most_common_first():
    errors = pd.DataFrame(
        {
            "item": ["a", "b", "c", "d", "e"],
            "path": ["p/a.csv", "p/b.csv", "p/c.csv", "p/d.csv", "p/e.csv"],
            "error": [
                "p/a.csv: cannot be read",
                "model m.py:f: returned shape (39, 2) for a batch of 39 windows",
                "model m.py:f: returned shape (17, 2) for a batch of 17 windows",
                "p/d.csv: column 'x' not found",
                "p/e.csv: column 'x' not found",
            ],
        }
    )
    reasons = failure_reasons(errors)
    assert [(reason.count, reason.path) for reason in reasons] == [(2, "p/b.csv"), (2, "p/d.csv"), (1, "p/a.csv")]
    assert reasons[1].text == "column 'x' not found" and reasons[1].message == "p/d.csv: column 'x' not found"
    assert len(failure_reasons(errors, limit=2)) == 2
    error = every_item_failed(errors)
    assert isinstance(error, InputError)
    assert str(error) == (
        "every pool item failed (5 items; 2 this way, 3 for 2 other reasons): "
        "model m.py:f: returned shape (39, 2) for a batch of 39 windows"
    )
    assert str(every_item_failed(errors.head(1))) == "every pool item failed (1 item): p/a.csv: cannot be read"


def test_every_item_failing_raises_and_leaves_the_folder_to_start_again(pool, tmp_path):
    folder, scorers = pool
    out = tmp_path / "mined"
    with pytest.raises(InputError, match=r"^every pool item failed \(3 items\): model .*returned shape \(39, 2\)"):
        mine([folder], out, MineOptions(model=f"{scorers}:wrong_shape", window_ms=500))
    assert sorted(path.name for path in out.iterdir()) == ["mine.json", "shards"]
    assert not any((out / "shards").iterdir())
    result = mine([folder], out, MineOptions(model=f"{scorers}:make", window_ms=500))
    assert len(result.items) == 3 and result.stats["warnings"] == []


def test_a_run_that_keeps_no_candidate_says_why(pool, tmp_path):
    folder, scorers = pool
    result = mine([folder], tmp_path / "high", MineOptions(model=f"{scorers}:make", window_ms=500, min_score=0.95))
    assert result.stats["warnings"] == [
        {
            "parameter": "min_score",
            "message": "min_score 0.95: no window scored at least it (best 0.900), so there are no candidates; "
            "lower it",
        }
    ]
    too_long = MineOptions(model=f"{scorers}:make", window_ms=20000, short_items="skip")
    result = mine([folder], tmp_path / "long", too_long)
    assert [warning["parameter"] for warning in result.stats["warnings"]] == ["window_ms"]
    assert result.stats["warnings"][0]["message"].startswith("window_ms 20000 is longer than every scored pool item")
    # the warnings are for the caller: stats.json holds what the run found, as before
    assert "warnings" not in (tmp_path / "long" / "stats.json").read_text()


def test_ctrl_c_keeps_the_finished_items_and_says_how_many(pool, tmp_path):
    folder, scorers = pool
    out = tmp_path / "mined"
    options = MineOptions(model=f"{scorers}:ctrl_c_on_the_second_item", window_ms=500)
    with pytest.raises(MineInterrupted) as caught:
        mine([folder], out, options)
    assert (caught.value.finished, caught.value.total, caught.value.out) == (1, 3, out)
    assert isinstance(caught.value, KeyboardInterrupt)
    assert len(list((out / "shards").glob("*.parquet"))) == 1
    result = mine([folder], out, options, resume=True)
    assert len(result.items) == 3
