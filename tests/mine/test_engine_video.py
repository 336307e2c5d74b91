"""Mining a video pool: read-ahead and reused batch buffers must not change a single score."""

import numpy as np
import pandas as pd
import pytest

av = pytest.importorskip("av")

from hardneg.mine._engine import MineOptions, mine  # noqa: E402
from tests.score.test_pools import write_video  # noqa: E402

SCORER = """
import numpy as np

def make():
    # mean red level of each frame / 255: a frame's score depends on that frame alone
    return lambda batch: np.asarray(batch)[..., 0].mean(axis=(1, 2)) / 255.0
"""


def brute_scores(path, stride):
    """Every stride-th frame decoded on its own, scored one by one."""
    rows = []
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number % stride == 0:
                rows.append((number, frame.to_ndarray(format="rgb24")[..., 0].mean() / 255.0))
    return pd.DataFrame(rows, columns=["frame", "score"])


@pytest.mark.parametrize("batch_size", [1, 4, 64])
def test_video_pool_scores_match_frame_by_frame_decoding(tmp_path, batch_size):
    rng = np.random.default_rng(3)
    pool = tmp_path / "pool"
    pool.mkdir()
    for index in range(3):  # three clips of different lengths, so batches end mid-clip and across clips
        colours = rng.integers(0, 256, size=(17 + 6 * index, 3)).astype(np.uint8)
        write_video(pool / f"cam{index}.mp4", colours)
    (tmp_path / "red.py").write_text(SCORER)
    options = MineOptions(model=f"{tmp_path / 'red.py'}:make", stride=2, batch_size=batch_size, min_score=0.0,
                          nms_ms=0.0)  # fmt: skip
    result = mine([pool], tmp_path / "out", options)

    windows_seen = 0
    for index in range(3):
        expected = brute_scores(pool / f"cam{index}.mp4", stride=2)
        item = result.items.set_index("item").loc[f"cam{index}"]
        assert item["n_windows"] == len(expected)
        assert item["max_score"] == pytest.approx(expected["score"].max(), abs=1e-12)
        kept = result.candidates[result.candidates["item"] == f"cam{index}"].sort_values("frame")
        # min score 0 and no suppression: every scored frame is a candidate
        assert kept["frame"].tolist() == expected["frame"].tolist()
        np.testing.assert_allclose(kept["score"].to_numpy(), expected["score"].to_numpy(), atol=1e-12)
        windows_seen += len(expected)
    assert result.stats["n_windows"] == windows_seen


def test_a_scorer_failing_on_every_video_lands_each_in_errors_without_starving_the_reader(tmp_path):
    """The batch being scored goes back to the reused buffers even when the scorer raises.

    There are three buffers; a leak per failed item would block the reader from the fourth item on.
    """
    import subprocess
    import sys

    pool = tmp_path / "pool"
    pool.mkdir()
    for index in range(5):
        write_video(pool / f"cam{index}.mp4", np.full((8, 3), 40 * index, dtype=np.uint8))
    (tmp_path / "broken.py").write_text(
        "def make():\n    def score(batch):\n        raise ValueError('model exploded')\n    return score\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "hardneg", "mine", pool, "--model", f"{tmp_path / 'broken.py'}:make",
         "--batch-size", "2", "--out", tmp_path / "out", "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # every item was read and scored (a starved reader would hang here), and every one failed: exit 2, one reason
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: every pool item failed (5 items): ")
    assert "model exploded" in done.stderr and "Traceback" not in done.stderr
