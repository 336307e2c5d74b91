"""Small inputs under the names the README's blocks use, and the runners that run the blocks as written.

A shell block runs command by command with bash (``-e``), the ``hardneg`` of this interpreter's environment
first on ``PATH`` and this checkout's ``src`` first on ``PYTHONPATH``; a command is expected to exit 0 unless
its comment says ``# exits N``. A comment line that stands for a step the reader does (``# write
runs/...``) is done by a hook the test gives. Python blocks run in one fresh interpreter, one after the other
in one namespace, as in a notebook.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tests.readme._blocks import REPO

MITDB = (REPO / ".." / "shared" / "data" / "mitdb").resolve()
MITDB_MISSING = f"MIT-BIH records not found at {MITDB} (../shared/data/mitdb beside the checkout)"
TIMEOUT = 300


def block_env(tmp: Path) -> dict[str, str]:
    """The environment a reader's shell has after the set-up: ``hardneg`` on PATH, this checkout's code."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "hardneg").is_file():  # an interpreter without the console script: the same, by -m
        bin_dir = tmp / "bin"
        bin_dir.mkdir(exist_ok=True)
        script = bin_dir / "hardneg"
        script.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" -m hardneg "$@"\n')
        script.chmod(0o755)
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    return env


@dataclass
class Ran:
    command: str
    returncode: int
    stdout: str
    stderr: str


def shell_commands(text: str) -> list[str]:
    """The block's commands (continued lines joined as bash joins them) and its comment lines, in order."""
    commands, current = [], ""
    for line in text.splitlines():
        if not current and not line.strip():
            continue
        current += line + "\n"
        if not line.endswith("\\"):
            commands.append(current.rstrip("\n"))
            current = ""
    if current:
        commands.append(current.rstrip("\n"))
    return commands


def expected_status(command: str) -> int:
    """0, or N where the command's comment says ``# exits N``."""
    said = re.search(r"#\s*exits (\d+)", command)
    return int(said.group(1)) if said else 0


def run_shell_block(text: str, cwd: Path, env: dict, hooks: dict | None = None) -> list[Ran]:
    """Run each command of a README shell block in ``cwd``; assert each exits as the README says."""
    hooks = dict(hooks or {})
    ran = []
    for command in shell_commands(text):
        if command.lstrip().startswith("#"):
            for prefix, hook in list(hooks.items()):
                if command.lstrip().startswith(prefix):
                    hook(cwd)
                    del hooks[prefix]
            continue
        result = subprocess.run(
            ["bash", "-e", "-c", command],
            check=False,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert result.returncode == expected_status(command), (
            f"README command exited {result.returncode}, expected {expected_status(command)}:\n{command}\n"
            f"stderr:\n{result.stderr[-3000:]}"
        )
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        ran.append(Ran(command, result.returncode, result.stdout, result.stderr))
    assert not hooks, f"the block has no comment line for the step(s) {sorted(hooks)}"
    return ran


_DRIVER = """
import json, sys
namespace = {"__name__": "__main__"}
for number, path in enumerate(sys.argv[1:-1]):
    exec(compile(open(path).read(), f"README block {number + 1} ({path})", "exec"), namespace)
exec(compile(open(sys.argv[-1]).read(), "the test's look at the results", "exec"), namespace)
"""


def run_python_blocks(texts: list[str], cwd: Path, env: dict, look: str = "") -> dict:
    """Run the blocks in one interpreter and one namespace; ``look`` (Python) then prints ``json.dumps(...)``.

    Returns what ``look`` printed on its last line, parsed (an empty dict without ``look``).
    """
    paths = []
    for number, text in enumerate(texts):
        path = cwd / f".readme_block_{number + 1}.py"
        path.write_text(text)
        paths.append(str(path))
    look_path = cwd / ".readme_look.py"
    look_path.write_text("import json\n" + (look or "print(json.dumps({}))\n"))
    result = subprocess.run(
        [sys.executable, "-c", _DRIVER, *paths, str(look_path)],
        check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, f"README Python blocks failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------- worlds


def link_inputs(source: Path, folder: Path, names) -> Path:
    """``folder`` holding links to ``source/NAME`` for each name: the inputs, and nothing a block wrote."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).symlink_to(source / name)
    return folder


def sensor_world(root: Path) -> Path:
    """``logs/s01..s06.parquet`` (1 min at 100 Hz, 3 shooters), ``events.csv``, ``groups.csv``, ``pool/``."""
    from hardneg.demo import generate_world

    generate_world(root, seed=0, n_sessions=6, session_minutes=1.0, n_no_shot_sessions=2)
    return root


def short_mitdb(base: Path, seconds: float) -> Path:
    """``base/shared/data/mitdb``: every MIT-BIH record cut to its first ``seconds``; returns ``base/work``.

    A block run in ``base/work`` finds the records as ``../shared/data/mitdb``, as the README writes it.
    """
    import wfdb

    folder = base / "shared" / "data" / "mitdb"
    folder.mkdir(parents=True)
    for header in sorted(MITDB.glob("*.hea")):
        record = wfdb.rdrecord(str(header.with_suffix("")), sampto=int(seconds * 360), physical=False)
        record.wrsamp(write_dir=str(folder))
        wfdb.rdann(str(header.with_suffix("")), "atr", sampto=int(seconds * 360)).wrann(write_dir=str(folder))
    work = base / "work"
    work.mkdir()
    return work


AUDIO_RATE = 8000


def audio_world(folder: Path) -> dict:
    """``clips/`` of four 8 s mono WAVs from two recorders, ``calls.csv`` and ``recorders.csv``; the calls."""
    import soundfile

    (folder / "clips").mkdir(parents=True)
    rng = np.random.default_rng(3)
    calls, groups = [], []
    for number in range(4):
        name = f"rec{number % 2 + 1}_day{number // 2 + 1}"
        x = 0.05 * rng.standard_normal(8 * AUDIO_RATE)
        for t_ms in (2000.0 + 300 * number, 5500.0):
            start = int(t_ms / 1000 * AUDIO_RATE)
            x[start : start + 1600] += 0.5 * np.sin(2 * np.pi * 1000 * np.arange(1600) / AUDIO_RATE)
            calls.append((name, t_ms))
        soundfile.write(folder / "clips" / f"{name}.wav", x.astype(np.float32), AUDIO_RATE, subtype="PCM_16")
        groups.append((name, f"recorder{number % 2 + 1}"))
    pd.DataFrame(calls, columns=["recording", "t_ms"]).to_csv(folder / "calls.csv", index=False)
    pd.DataFrame(groups, columns=["recording", "group"]).to_csv(folder / "recorders.csv", index=False)
    return {"calls": calls, "groups": dict(groups)}


#: the vision model's score of a frame: sigmoid of a weighted sum of its channel means, after ImageNet scaling
VISION_WEIGHTS, VISION_BIAS = (0.5, -0.3, 0.8), 1.5


def vision_world(folder: Path, n_frames: int = 6) -> Path:
    """``cams/cam1.mp4`` (noise, 64x48) and ``resnet18.onnx``: an NCHW float32 (N, 3, 224, 224) -> (N, 1) model."""
    import av

    from tests.helpers.onnx_models import channel_mean_onnx

    (folder / "cams").mkdir(parents=True)
    rng = np.random.default_rng(4)
    with av.open(str(folder / "cams" / "cam1.mp4"), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = 64, 48
        for _ in range(n_frames):
            image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    channel_mean_onnx(folder / "resnet18.onnx", VISION_WEIGHTS, VISION_BIAS, name="not-a-resnet")
    return folder
