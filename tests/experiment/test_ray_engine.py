"""``engine="ray"``: each (arm, seed) a Ray task on a local instance, with the same tables as the local engine."""

from __future__ import annotations

import pytest

from hardneg.experiment import run_experiment
from tests.helpers.synth import SMALL_EXPERIMENT, grouped_dataset

pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'hardneg[ray]')")


def test_ray_engine_writes_what_the_local_engine_writes(tmp_path):
    grouped_dataset(tmp_path / "ds")
    (tmp_path / "x.yaml").write_text(SMALL_EXPERIMENT)
    on_ray = run_experiment(tmp_path / "x.yaml", tmp_path / "ray", engine="ray")
    local = run_experiment(tmp_path / "x.yaml", tmp_path / "local", jobs=2)
    assert (on_ray.runs["status"] == "done").all() and len(on_ray.runs) == 4
    for name in ("results.parquet", "comparisons.parquet", "summary.parquet", "criteria.parquet"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert not local.tables["comparisons"].empty
