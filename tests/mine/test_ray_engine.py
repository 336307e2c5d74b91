"""`hardneg mine --engine ray` gives the same bytes as `--engine local`, on one local Ray instance per module."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.mine._engine import MineOptions, mine

OUTPUTS = ("candidates.parquet", "items.parquet", "tiers/conf_min_0.50.csv", "tiers/conf_min_0.85.csv",
           "tiers/conf_min_0.99.csv", "errors.csv", "stats.json")  # fmt: skip

SCORER_SOURCE = textwrap.dedent(
    """
    import numpy as np

    def make():
        def score(batch):
            # sigmoid of 2 * (mean square of the window - 1): loud windows score high
            energy = np.mean(np.asarray(batch, dtype=np.float64) ** 2, axis=(1, 2))
            return 1.0 / (1.0 + np.exp(-(energy - 1.0) * 2.0))

        return score
    """
)


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray instance for the whole module (starting Ray takes seconds on a 2-core machine)."""
    try:
        import ray
        import ray.data
    except ImportError as failure:
        pytest.skip(f"Ray Data is not installed ({failure}); pip install 'hardneg[ray]' to run the Ray engine tests")
    if ray.is_initialized():
        ray.shutdown()
    context = ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield context.address_info["address"]
    ray.shutdown()


@pytest.fixture
def pool(tmp_path):
    """Five sensor logs with loud bursts at random places, one corrupt log, and a Python-factory scorer."""
    rng = np.random.default_rng(3)
    folder = tmp_path / "pool"
    folder.mkdir()
    for index, name in enumerate(["subjA_s1", "subjA_s2", "subjB_s1", "subjC_s1", "subjC_s2"]):
        n = 900 + 151 * index
        values = rng.normal(0, 0.5, (n, 3))
        for start in rng.choice(n - 60, 3, replace=False):
            values[start : start + 60] *= 2.5 + index * 0.2
        frame = pd.DataFrame(values, columns=["ax", "ay", "az"])
        frame.insert(0, "t_ms", np.arange(n) * 10.0)
        frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / "subjD_s1.csv").write_text("t_ms,ax,ay,az\n0,1,2\n1,oops,3,4\n")
    (tmp_path / "scorer.py").write_text(SCORER_SOURCE)
    return folder, tmp_path / "scorer.py"


def options(scorer) -> MineOptions:
    return MineOptions(model=f"{scorer}:make", window_ms=500.0, hop_ms=250.0, min_score=0.5,
                       group_regex=r"^(subj[A-Z])")  # fmt: skip


def assert_same_outputs(a, b):
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_ray_engine_writes_the_same_bytes_as_the_local_engine(ray_cluster, pool, tmp_path):
    folder, scorer = pool
    local = mine([folder], tmp_path / "local", options(scorer))
    on_ray = mine([folder], tmp_path / "ray", options(scorer), engine="ray", num_workers=2)
    assert_same_outputs(tmp_path / "local", tmp_path / "ray")
    assert on_ray.errors["item"].tolist() == ["subjD_s1"] == local.errors["item"].tolist()
    assert "subjD_s1.csv" in on_ray.errors["error"].iloc[0]
    assert len(on_ray.items) == 5 and len(on_ray.candidates) > 0
    assert on_ray.stats["windows_scored_this_run"] == local.stats["windows_scored_this_run"] > 0
    # the same shards too, so a run can be resumed with either engine
    shards = sorted(path.name for path in (tmp_path / "local" / "shards").iterdir())
    assert shards == sorted(path.name for path in (tmp_path / "ray" / "shards").iterdir())


def test_ray_engine_resumes_a_local_run_and_scores_only_what_is_left(ray_cluster, pool, tmp_path):
    folder, scorer = pool
    whole, partial = tmp_path / "whole", tmp_path / "partial"
    mine([folder], whole, options(scorer))
    mine([folder], partial, options(scorer))
    # as if the local run had been killed after two items: drop the others' shards and the final files
    kept = sorted((partial / "shards").glob("*.parquet"))[:2]
    for path in (partial / "shards").iterdir():
        if path not in kept:
            path.unlink()
    for name in OUTPUTS:
        (partial / name).unlink()
    scored_before = sum(len(pd.read_parquet(path)) for path in kept)
    resumed = mine([folder], partial, options(scorer), resume=True, engine="ray")
    assert_same_outputs(whole, partial)
    total = sum(len(pd.read_parquet(path)) for path in (whole / "shards").glob("*.parquet"))
    assert resumed.stats["windows_scored_this_run"] == total - scored_before


def test_cli_engine_ray_on_an_existing_cluster_matches_local(ray_cluster, pool, tmp_path):
    _, scorer = pool
    # relative pool and model paths: the Ray workers must resolve them as the driver does
    args = ["pool", "--model", f"{scorer.name}:make", "--window-ms", "500", "--hop-ms", "250",
            "--group-regex", r"^(subj[A-Z])"]  # fmt: skip

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "hardneg", "mine", *args, *extra], check=False,
                              capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "RAY_ADDRESS": ""})  # fmt: skip

    local = run("--out", "local")
    assert local.returncode == 0, local.stderr
    on_ray = run("--out", "ray", "--engine", "ray", "--ray-address", ray_cluster, "--num-workers", "2")
    assert on_ray.returncode == 0, on_ray.stderr
    assert_same_outputs(tmp_path / "local", tmp_path / "ray")
    assert "1 failed" in on_ray.stdout
    assert pd.read_csv(tmp_path / "ray" / "errors.csv")["path"].tolist() == ["pool/subjD_s1.csv"]


def test_ray_options_need_engine_ray(pool, tmp_path):
    folder, scorer = pool
    result = subprocess.run(
        [sys.executable, "-m", "hardneg", "mine", folder, "--model", f"{scorer}:make", "--out", tmp_path / "o",
         "--num-workers", "2"],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2 and "--engine ray" in result.stderr
    assert not (tmp_path / "o").exists()


def test_a_missing_ray_is_an_input_error_naming_the_extra(pool, tmp_path, monkeypatch):
    folder, scorer = pool
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(InputError, match=r"pip install 'hardneg\[ray\]'"):
        mine([folder], tmp_path / "o", options(scorer), engine="ray")
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_every_item_failing_on_ray_stops_as_it_does_locally(ray_cluster, pool, tmp_path):
    folder, scorer = pool
    wrong = MineOptions(model=f"{scorer}:make", window_ms=500.0, time_col="time")
    with pytest.raises(InputError) as local:
        mine([folder], tmp_path / "local", wrong)
    with pytest.raises(InputError) as on_ray:
        mine([folder], tmp_path / "ray", wrong, engine="ray", num_workers=2)
    assert str(on_ray.value) == str(local.value)
    assert str(local.value).startswith("every pool item failed (6 items; 5 this way, 1 for 1 other reason): ")
    assert "--time-col 'time' not found" in str(local.value)
    for out in (tmp_path / "local", tmp_path / "ray"):
        assert not any((out / "shards").iterdir())
