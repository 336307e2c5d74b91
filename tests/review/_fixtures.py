"""Small mined folders for the review tests, written with the mining manifest's own writers."""

from pathlib import Path

import numpy as np
import pandas as pd

from hardneg.mine import write_candidates, write_items


def sensor_mined(tmp_path: Path, *, n_items: int = 3, per_item: int = 8, seed: int = 0, rate_hz: float = 100.0,
                 seconds: float = 60.0) -> Path:
    """``tmp_path/mined``: ``n_items`` sensor logs (acc_x/y/z, gyro_x) and ``per_item`` candidates each."""
    rng = np.random.default_rng(seed)
    pool = tmp_path / "pool"
    pool.mkdir(parents=True, exist_ok=True)
    n = int(seconds * rate_hz)
    candidates, items = [], []
    for i in range(n_items):
        item = f"rec{i}"
        log = pd.DataFrame({"t_ms": np.arange(n) * 1000.0 / rate_hz})
        for channel in ("acc_x", "acc_y", "acc_z", "gyro_x"):
            log[channel] = rng.normal(size=n)
        path = pool / f"{item}.parquet"
        log.to_parquet(path)
        starts = np.sort(rng.choice(np.arange(0, seconds - 1, 0.5), per_item, replace=False)) * 1000.0
        scores = np.round(rng.uniform(0.3, 1.0, per_item), 4)
        for start, score in zip(starts, scores):
            candidates.append((item, f"g{i % 2}", start, start + 500.0, score))
        items.append((item, f"g{i % 2}", n // 50, scores.max(), scores.mean(), scores.mean(), 0.0, str(path)))
    out = tmp_path / "mined"
    table = pd.DataFrame(candidates, columns=["item", "group", "start_ms", "end_ms", "score"])
    write_candidates(table, out)
    write_items(pd.DataFrame(items, columns=["item", "group", "n_windows", "max_score", "mean_score", "topk_mean",
                                             "argmax_ms", "path"]), out)
    return out


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ReviewServer:
    """``hardneg review`` in a subprocess, as a person starts it; ``url`` once it answers."""

    def __init__(self, mined: Path, *args: str):
        import os
        import subprocess
        import sys
        import time
        import urllib.request

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hardneg", "review", str(mined), "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/config", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"hardneg review exited: {self.process.stderr.read()}") from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("hardneg review did not answer within 60 s") from None
                time.sleep(0.1)

    def stop(self):
        """Stop it as Ctrl-C or a service manager would (SIGTERM); the finished process, with its output."""
        import subprocess

        self.process.terminate()
        try:
            stdout, stderr = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
        return subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout, stderr)


def video_mined(tmp_path: Path, *, frames: int = 40) -> Path:
    """A mined video pool: one clip whose frames differ in brightness, scored by it, every frame a candidate."""
    from hardneg.mine import MineOptions, mine
    from tests.score.test_pools import write_video

    pool = tmp_path / "pool"
    pool.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    colours = rng.integers(20, 236, (frames, 3)).astype(np.uint8)
    write_video(pool / "cam1.mp4", colours)
    scorer = tmp_path / "brightness.py"
    scorer.write_text("import numpy as np\n\ndef make():\n    return lambda batch: batch.mean(axis=(1, 2, 3)) / 255.0\n")
    out = tmp_path / "mined"
    mine([str(pool)], str(out), MineOptions(model=f"{scorer}:make", min_score=0.0, nms_ms=1.0, snapshots=True))
    return out


def audio_mined(tmp_path: Path, *, seconds: float = 12.0, rate: int = 8000) -> Path:
    """A mined audio pool: two recordings with tone bursts, scored by loudness, every burst a candidate."""
    import soundfile

    from hardneg.mine import MineOptions, mine

    pool = tmp_path / "pool"
    pool.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    for index, bursts in enumerate(([2.0, 6.0, 9.5], [1.0, 4.5])):
        signal = 0.01 * np.random.default_rng(index).normal(size=t.size)
        for at in bursts:
            inside = (t >= at) & (t < at + 0.5)
            signal[inside] += 0.5 * np.sin(2 * np.pi * 440 * t[inside])
        soundfile.write(pool / f"mic{index}.wav", signal.astype(np.float32), rate, subtype="PCM_16")
    scorer = tmp_path / "loudness.py"
    scorer.write_text("import numpy as np\n\ndef make():\n"
                      "    return lambda batch: np.clip(np.abs(batch).mean(axis=(1, 2)) * 4, 0, 1)\n")
    out = tmp_path / "mined"
    mine([str(pool)], str(out), MineOptions(model=f"{scorer}:make", window_ms=500, hop_ms=250, min_score=0.2))
    return out
