"""User mistakes with ``hardneg mine``: each exits 2 with one ``error:`` line that names what is wrong (the
file, the option), and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers.cli import assert_refused, run_hardneg
from tests.helpers.mistakes import Cases, build_base

cases = Cases()

SCORER = """import numpy as np

def make():
    return lambda batch: np.asarray(batch, float).mean(axis=tuple(range(1, np.ndim(batch)))) / 255
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.getbasetemp() / "mistakes-base")


def mine(base, tmp, *options, pool=None):
    return ["mine", pool or base.pool, "--out", tmp / "m", "-q", *options]


def with_model(base, tmp, *options, pool=None):
    return mine(base, tmp, "--model", base.model, "--trust-model", *options, pool=pool)


@cases.add
def neither_model_nor_scores(base, tmp):
    return mine(base, tmp), ["model", "scores"]


@cases.add
def both_model_and_scores(base, tmp):
    (tmp / "scores.csv").write_text("item,start_ms,end_ms,score\np01,0,500,0.5\n")
    return with_model(base, tmp, "--scores", tmp / "scores.csv"), ["model", "scores"]


@cases.add
def model_file_missing(base, tmp):
    return mine(base, tmp, "--model", tmp / "model.onnx"), ["model.onnx"]


@cases.add
def model_not_onnx(base, tmp):
    (tmp / "model.onnx").write_text("this is not a protobuf")
    return mine(base, tmp, "--model", tmp / "model.onnx"), ["model.onnx"]


@cases.add
def model_of_unknown_kind(base, tmp):
    (tmp / "model.pt").write_bytes(b"\x80\x02torch")
    return mine(base, tmp, "--model", tmp / "model.pt"), ["model.pt"]


@cases.add
def scorer_function_missing(base, tmp):
    (tmp / "scorer.py").write_text(SCORER)
    return mine(base, tmp, "--model", f"{tmp / 'scorer.py'}:build"), ["scorer.py", "'build'"]


@cases.add
def scorer_file_missing(base, tmp):
    return mine(base, tmp, "--model", f"{tmp / 'scorer.py'}:make"), ["scorer.py"]


@cases.add
def scorer_module_missing(base, tmp):
    return mine(base, tmp, "--model", "mylab.scorers:make"), ["mylab.scorers"]


@cases.add
def scorer_file_with_syntax_error(base, tmp):
    (tmp / "scorer.py").write_text("def make(:\n    pass\n")
    return mine(base, tmp, "--model", f"{tmp / 'scorer.py'}:make"), ["scorer.py"]


@cases.add
def trained_model_without_trust(base, tmp):
    return mine(base, tmp, "--model", base.model), ["--trust-model"]


@cases.add
def window_zero(base, tmp):
    return with_model(base, tmp, "--window-ms", "0"), ["--window-ms"]


@cases.add
def hop_zero(base, tmp):
    return with_model(base, tmp, "--hop-ms", "0"), ["--hop-ms"]


@cases.add
def stride_zero(base, tmp):
    return with_model(base, tmp, "--stride", "0"), ["--stride"]


@cases.add
def batch_size_zero(base, tmp):
    return with_model(base, tmp, "--batch-size", "0"), ["--batch-size"]


@cases.add
def min_score_above_one(base, tmp):
    return with_model(base, tmp, "--min-score", "50"), ["--min-score"]


@cases.add
def max_score_below_min_score(base, tmp):
    return with_model(base, tmp, "--min-score", "0.8", "--max-score", "0.3"), ["--max-score", "[0.8, 1]"]


@cases.add
def tiers_not_numbers(base, tmp):
    return with_model(base, tmp, "--tiers", "low,high"), ["--tiers"]


@cases.add
def tier_above_one(base, tmp):
    return with_model(base, tmp, "--tiers", "0.5,85"), ["--tiers"]


@cases.add
def topk_zero(base, tmp):
    return with_model(base, tmp, "--topk", "0"), ["--topk"]


@cases.add
def max_per_item_zero(base, tmp):
    return with_model(base, tmp, "--max-per-item", "0"), ["--max-per-item"]


@cases.add
def negative_nms(base, tmp):
    return with_model(base, tmp, "--nms-ms", "-1"), ["--nms-ms"]


@cases.add
def pool_missing(base, tmp):
    return with_model(base, tmp, pool=tmp / "pool"), ["pool"]


@cases.add
def pool_folder_empty(base, tmp):
    (tmp / "pool").mkdir()
    return with_model(base, tmp, pool=tmp / "pool"), ["pool"]


@cases.add
def pool_of_text_notes(base, tmp):
    (tmp / "pool").mkdir()
    (tmp / "pool" / "README.md").write_text("# my pool\n")
    return with_model(base, tmp, pool=tmp / "pool"), ["pool"]


@cases.add
def out_not_empty(base, tmp):
    (tmp / "m").mkdir()
    (tmp / "m" / "keep.txt").write_text("x")
    return with_model(base, tmp), ["--out", "--overwrite"]


@cases.add
def resume_with_other_options(base, tmp):
    first = run_hardneg(*with_model(base, tmp, "--min-score", "0.5"))
    assert first.returncode == 0, first.stderr
    return with_model(base, tmp, "--min-score", "0.7", "--resume"), ["--resume", "min"]


@cases.add
def resume_an_empty_folder(base, tmp):
    (tmp / "m").mkdir()
    (tmp / "m" / "notes.txt").write_text("x")
    return with_model(base, tmp, "--resume"), ["--resume"]


@cases.add
def scores_file_missing(base, tmp):
    return mine(base, tmp, "--scores", tmp / "scores.csv"), ["scores.csv"]


@cases.add
def scores_file_without_score_column(base, tmp):
    (tmp / "scores.csv").write_text("item,start_ms,end_ms,prob\np01,0,500,0.5\n")
    return mine(base, tmp, "--scores", tmp / "scores.csv"), ["scores.csv", "score"]


@cases.add
def scores_file_of_other_items(base, tmp):
    (tmp / "scores.csv").write_text("item,start_ms,end_ms,score\nzz,0,500,0.5\n")
    return mine(base, tmp, "--scores", tmp / "scores.csv"), ["scores.csv", "no scores for item 'p01'"]


@cases.add
def groups_file_missing(base, tmp):
    return with_model(base, tmp, "--groups", tmp / "groups.csv"), ["groups.csv"]


@cases.add
def group_regex_invalid(base, tmp):
    return with_model(base, tmp, "--group-regex", "(p[0-9"), ["--group-regex"]


@cases.add
def exclude_groups_from_a_log(base, tmp):
    return with_model(base, tmp, "--exclude-groups-from", base.logs[0]), ["s01.parquet"]


@cases.add
def split_without_exclude_groups(base, tmp):
    return with_model(base, tmp, "--split", "hold"), ["--split", "--exclude-groups-from"]


@cases.add
def exclude_groups_unknown_split(base, tmp):
    return with_model(base, tmp, "--exclude-groups-from", base.dataset, "--split", "holdout"), ["holdout"]


@cases.add
def resize_not_w_by_h(base, tmp):
    return with_model(base, tmp, "--resize", "224"), ["--resize", "224"]


@cases.add
def resize_short_zero(base, tmp):
    return with_model(base, tmp, "--resize-short", "0"), ["--resize-short"]


@cases.add
def imagenet_with_uint8(base, tmp):
    return with_model(base, tmp, "--normalize", "imagenet"), ["--dtype", "imagenet"]


@cases.add
def ray_options_without_ray(base, tmp):
    return with_model(base, tmp, "--num-workers", "4"), ["--num-workers", "--engine ray"]


@cases.add
def wrong_time_col(base, tmp):
    return with_model(base, tmp, "--time-col", "time"), ["every pool item failed", "time"]


@cases.add
def channel_not_in_pool(base, tmp):
    return with_model(base, tmp, "--channels", "ax,qq"), ["every pool item failed", "qq"]


@cases.add
def window_the_model_was_not_trained_on(base, tmp):
    return with_model(base, tmp, "--window-ms", "300"), ["p01.parquet", "30 samples per window", "expects"]


@pytest.mark.parametrize("case_id", cases.ids)
def test_mine_mistake(base, tmp_path, case_id):
    result, needles = cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)


def test_an_image_pool_without_pillow_names_the_extra(tmp_path):
    """``import PIL`` fails (a package on the path that raises, as when Pillow is not installed)."""
    from PIL import Image

    pool = tmp_path / "frames"
    pool.mkdir()
    rng = np.random.default_rng(0)
    for number in range(2):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(pool / f"{number:03d}.png")
    (tmp_path / "scorer.py").write_text(SCORER)
    hidden = tmp_path / "hidden" / "PIL"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('No module named PIL')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(hidden.parent), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "hardneg", "mine", pool, "--model", f"{tmp_path / 'scorer.py'}:make",
         "--out", tmp_path / "m", "-q"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert_refused(done, "pip install 'hardneg[video]'", "Pillow")
