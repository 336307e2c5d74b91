"""`hardneg sample --hard-negatives` refuses hard-negative options it cannot use: one `error:` line, exit 2.

--hard-tier above every mined score would add nothing (the message names the best score; a tier equal to
it is accepted, as candidates are kept at score >= tier); --hard-tier and --hard-max mean nothing without
--hard-negatives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.mine._manifest import write_candidates, write_items
from hardneg.mine._select import item_table


def mined_folder(root, log_maker, scores):
    """A mining folder with one pool log (``p1``) and a candidate of each score, as ``hardneg mine`` writes it."""
    make_log, write_log = log_maker
    pool = write_log(root / "p1.csv", make_log(3000, 7))
    starts = 5000.0 + 5000.0 * np.arange(len(scores))
    candidates = pd.DataFrame({"item": "p1", "group": "p1", "start_ms": starts, "end_ms": starts + 500.0,
                               "score": np.asarray(scores, dtype=np.float64)})  # fmt: skip
    items = item_table(candidates)
    items["path"] = str(pool.resolve())
    mined = root / "mined"
    write_candidates(candidates, mined)
    write_items(items, mined)
    return mined


def one_error(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_tier_equal_to_the_best_mined_score_is_kept_and_one_just_above_is_refused(world, cli, log_maker):
    mined = mined_folder(world.root, log_maker, [0.6, 0.847])
    base = ["sample", *world.logs, "--events", world.events, "--hard-negatives", mined, "-q"]
    kept = cli(*base, "--hard-tier", "0.847", "--out", world.root / "kept")
    assert kept.returncode == 0, kept.stderr
    index = pd.read_parquet(world.root / "kept" / "index.parquet")
    assert (index["kind"] == "hard").sum() == 1
    line = one_error(cli(*base, "--hard-tier", "0.8471", "--out", world.root / "refused"))
    assert line == "error: --hard-tier 0.8471 is above every mined score (best 0.847); lower it"
    assert not (world.root / "refused").exists()


@pytest.mark.parametrize(("flag", "value"), [("--hard-tier", "0.5"), ("--hard-max", "3")])
def test_hard_options_without_hard_negatives_are_refused(world, cli, flag, value):
    line = one_error(cli("sample", *world.logs, "--events", world.events, flag, value, "--out", world.root / "d"))
    assert line.startswith(f"error: {flag} chooses among mined hard negatives, but no mined folder was given")
    assert not (world.root / "d").exists()


def test_the_tier_boundary_in_the_library_is_the_exact_best_score(world, log_maker):
    from hardneg import InputOptions, build_dataset

    best = float(np.float32(0.8476))  # a float32 model's score: 0.84759998...
    mined = mined_folder(world.root, log_maker, [0.5, best])
    inputs = InputOptions(events=world.events)
    dataset = build_dataset(world.logs, world.root / "equal", inputs=inputs, hard_negatives=mined, hard_tier=best)
    assert (dataset.index["kind"] == "hard").sum() == 1
    above = float(np.nextafter(best, 1.0))
    with pytest.raises(
        InputError, match=rf"^hard_tier {above} is above every mined score \(best 0.847599\); lower it$"
    ) as caught:
        build_dataset(world.logs, world.root / "above", inputs=inputs, hard_negatives=mined, hard_tier=above)
    assert caught.value.parameter == "hard_tier"
    # the best score as the message shows it is a tier that keeps that candidate
    shown = build_dataset(world.logs, world.root / "shown", inputs=inputs, hard_negatives=mined, hard_tier=0.847599)
    assert (shown.index["kind"] == "hard").sum() == 1
    for name, value in (("hard_tier", 0.5), ("hard_max", 2)):
        with pytest.raises(InputError, match=f"^{name} chooses among mined hard negatives") as caught:
            build_dataset(world.logs, world.root / "none", inputs=inputs, **{name: value})
        assert caught.value.parameter == name
