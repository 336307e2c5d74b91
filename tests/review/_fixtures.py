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
    """``hardneg review`` in a subprocess, as a person starts it, on a free port; ``url`` and ``token`` once it answers.

    :meth:`stop` ends it as Ctrl-C or a service manager would (SIGTERM); :meth:`kill` as a crash (SIGKILL).
    """

    def __init__(self, mined: Path, *args: str):
        import os
        import re
        import subprocess
        import sys
        import time

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hardneg", "review", str(mined), "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"hardneg review exited: {self.process.stderr.read()}")
            try:
                status, page = self.request("GET", "/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise AssertionError("hardneg review did not answer within 60 s") from None
                time.sleep(0.1)
        assert status == 200
        self.token = re.search(r'<meta name="hardneg-token" content="([^"]+)"', page).group(1)

    def connection(self):
        import http.client

        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, body=None, connection=None, token=None):
        """``(status, text)``; a POST carries the page's token unless ``token`` says otherwise."""
        import json

        own = connection is None
        connection = connection or self.connection()
        try:
            headers = {"Content-Type": "application/json"}
            if method == "POST":
                headers["X-Hardneg-Token"] = token or self.token
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            if own:
                connection.close()

    def post(self, path, body, connection=None):
        import json

        status, data = self.request("POST", path, body, connection)
        return status, json.loads(data)

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut ends it."""
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=10)

    def stop(self):
        """SIGTERM; the finished process, with its output."""
        import subprocess

        if self.process.poll() is None:
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
