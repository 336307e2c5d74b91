"""``hardneg split --name`` refuses strategy names; ``hardneg bench --splits`` draws strategies anew per seed."""

import pandas as pd
import pytest

from hardneg import InputOptions, build_dataset
from hardneg.demo import generate_world

BENCH = ("--models", "logreg", "--features", "summary", "--seeds", "2", "--quiet")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    world = generate_world(root / "world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=0)
    return build_dataset(world.logs, root / "shots", inputs=InputOptions(events=world.events, groups=world.groups)).path


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_a_strategy_name_is_refused(dataset, cli):
    result = cli("split", dataset, "--strategy", "group", "--name", "random")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = error_lines(result)
    assert len(lines) == 1 and "fresh split per seed" in lines[0] and "random-s0" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (dataset / "splits" / "random.parquet").exists()


def test_the_default_name_is_strategy_and_seed(dataset, cli):
    result = cli("split", dataset, "--strategy", "random", "--seed", "3", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (dataset / "splits" / "random-s3.parquet").is_file()
    assert not (dataset / "splits" / "random.parquet").exists()


def _test_ids(out, split):
    scores = pd.read_parquet(out / "scores.parquet")
    test = scores[(scores["subset"] == "test") & (scores["model"] == "logreg") & (scores["split"] == split)]
    return [set(test.loc[test["seed"] == seed, "window_id"]) for seed in (0, 1)]


def test_bench_draws_strategies_per_seed_and_reuses_saved_splits(dataset, cli, tmp_path):
    assert cli("split", dataset, "--strategy", "group", "--name", "g1", "--quiet").returncode == 0
    fresh = cli("bench", dataset, "--splits", "group", *BENCH, "--out", tmp_path / "fresh")
    assert fresh.returncode == 0, fresh.stderr
    seed0, seed1 = _test_ids(tmp_path / "fresh", "group")
    assert seed0 and seed0 != seed1
    for spelling in ("saved:g1", "g1"):
        fixed = cli("bench", dataset, "--splits", spelling, *BENCH, "--out", tmp_path / spelling.replace(":", "_"))
        assert fixed.returncode == 0, fixed.stderr
        seed0, seed1 = _test_ids(tmp_path / spelling.replace(":", "_"), "g1")
        assert seed0 and seed0 == seed1
    missing = cli("bench", dataset, "--splits", "saved:missing", *BENCH, "--out", tmp_path / "missing")
    assert missing.returncode == 2, missing.stdout + missing.stderr
    lines = error_lines(missing)
    assert len(lines) == 1 and "missing" in lines[0] and "g1" in lines[0], missing.stderr
