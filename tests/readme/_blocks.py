"""The README's fenced blocks, and which test runs each one.

A block is known by its heading and its first command line (the first line that is neither blank nor a
comment): a block whose first line changes, or a new block, is a new key, and the meta-test fails until
:data:`REGISTRY` names a test for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"

#: the languages whose blocks are commands or code (a block without a language is printed output)
RUNNABLE = ("sh", "python")


@dataclass(frozen=True)
class Block:
    heading: str
    language: str
    text: str
    line: int  # of the opening fence, 1-based

    @property
    def first_line(self) -> str:
        for line in self.text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                return line.strip()
        return ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.heading, self.first_line)


def readme_blocks(text: str | None = None) -> list[Block]:
    """Every fenced block of the README, in order, with the heading it stands under."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks, heading, number = [], "", 0
    while number < len(lines):
        line = lines[number]
        if re.match(r"#{1,6} ", line):
            heading = line.strip()
        fence = re.match(r"```(\S*)\s*$", line)
        if fence:
            end = number + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            body = "\n".join(lines[number + 1 : end]) + "\n"
            blocks.append(Block(heading, fence.group(1), body, number + 1))
            number = end
        number += 1
    return blocks


def runnable_blocks() -> list[Block]:
    return [block for block in readme_blocks() if block.language in RUNNABLE]


SETUP = "## Set-up: two commands"
SENSOR = "### 2. Your own sensor logs"
ECG = "### 3. ECG from PhysioNet (WFDB)"
PYTHON = "### 4. From Python"
EVALUATION = "### 5. Honest evaluation: split, audit, bench"
CASE_STUDY = "### Case study: inter-patient VEB detection on MIT-BIH"
MINING = "### 6. Mining hard negatives"
STREAM = "### 7. Whole timelines: false alarms per hour, recall and lead time"
EXPERIMENT = "### 8. Controlled comparisons: which negatives help, with how many seeds"
REVIEW = "### 9. Reviewing mined candidates: confirmed negatives, label errors, background images"

_SENSOR_TESTS = "tests/readme/test_sensor_blocks.py"
_ECG_TESTS = "tests/readme/test_ecg_blocks.py"
_MEDIA_TESTS = "tests/readme/test_media_blocks.py"
_META_TESTS = "tests/readme/test_meta.py"
_CASE_STUDY = "tests/examples/test_readme_case_study.py::test_case_study_commands_run_as_written"

#: (heading, first command line) -> the test node(s) that run or check the block. Tests in tests/readme take
#: their blocks from here (:func:`blocks_run_by`); the others read the README themselves (the case study) or
#: run the same command with a smaller workload (the demo, with --seeds 2).
REGISTRY: dict[tuple[str, str], tuple[str, ...]] = {
    (SETUP, "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/hardneg demo"): (
        f"{_META_TESTS}::test_setup_commands_are_what_ci_runs",
        "tests/cli/test_cli.py::test_demo_end_to_end_and_rerun",
    ),
    (SETUP, "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q"): (
        f"{_META_TESTS}::test_setup_commands_are_what_ci_runs",
    ),
    (SENSOR, "hardneg sample logs/*.parquet --events events.csv --out shots \\"): (
        f"{_SENSOR_TESTS}::test_sensor_logs_command",
    ),
    (ECG, "hardneg sample ../shared/data/mitdb/*.hea --event-symbols V --align center --window-ms 600 \\"): (
        f"{_ECG_TESTS}::test_veb_dataset_command",
    ),
    (ECG, "hardneg sample ../shared/data/mitdb/*.hea --event-symbols V,E --negative-symbols N,L,R,e,j,A,a,J,S,F,/,f,Q \\"): (
        f"{_ECG_TESTS}::test_beat_level_command",
    ),
    (ECG, "hardneg sample clips/*.wav --events calls.csv --groups recorders.csv --window-ms 1000 --align center --out calls"): (
        f"{_MEDIA_TESTS}::test_audio_command",
    ),
    (PYTHON, "from glob import glob"): (f"{_SENSOR_TESTS}::test_python_api",),
    (PYTHON, "from hardneg.audit import audit_split"): (f"{_SENSOR_TESTS}::test_python_api",),
    (PYTHON, "from hardneg.bench import run_bench"): (f"{_SENSOR_TESTS}::test_python_api",),
    (PYTHON, "from hardneg import recipe_of"): (f"{_SENSOR_TESTS}::test_python_api",),
    (
        EVALUATION,
        (
            "hardneg split mitdb-v --strategy group --test-groups 100,103,105,111,113,117,121,123,200,202,210,212,213,"
            "214,219,221,222,228,231,232,233,234 --name ds1ds2"
        ),
    ): (f"{_ECG_TESTS}::test_split_audit_and_bench_commands",),
    (EVALUATION, "hardneg split shots --strategy group --n-splits 5 --name groups5      # train and predict on this split"): (
        f"{_SENSOR_TESTS}::test_predictions_of_your_own_models",
    ),
    (CASE_STUDY, "hardneg sample ../shared/data/mitdb/{101,106,108,109,112,114,115,116,118,119,122,124,201,203,205,207,208,209,215,220,223,230}.hea \\"): (
        _CASE_STUDY,
    ),
    (CASE_STUDY, "import pandas as pd"): (_CASE_STUDY,),
    (MINING, "hardneg train shots --model et --out model                      # or any model.onnx / file.py:make scorer"): (
        f"{_SENSOR_TESTS}::test_mining_loop",
    ),
    (MINING, "hardneg mine cams/ --model resnet18.onnx --resize 224x224 --layout nchw --normalize imagenet --dtype float32 --out mined-cams"): (
        f"{_MEDIA_TESTS}::test_vision_model_command",
    ),
    (STREAM, "hardneg stream score logs/ pool/ --model model --trust-model --hop-ms 50 --out timeline"): (
        f"{_SENSOR_TESTS}::test_stream_commands",
    ),
    (EXPERIMENT, "hardneg experiment experiment.yaml --out comparison --jobs 2    # --engine ray for a Ray cluster"): (
        f"{_SENSOR_TESTS}::test_experiment_command",
    ),
    (REVIEW, "hardneg review mined-cams --categories orange_trucks,random_cones,roadside_signs,weather_artifacts,other"): (
        f"{_MEDIA_TESTS}::test_review_commands",
    ),
}  # fmt: skip


def blocks_run_by(node: str) -> list[Block]:
    """The README blocks that :data:`REGISTRY` gives to the test ``node`` (``tests/readme/FILE.py::NAME``), in order.

    Fails when there is none: the README lost the block, or its heading or first line changed.
    """
    blocks = [block for block in runnable_blocks() if node in REGISTRY.get(block.key, ())]
    wanted = [key for key, nodes in REGISTRY.items() if node in nodes]
    assert len(blocks) == len(wanted), (
        f"{node} runs {len(wanted)} README block(s) by the registry, found {len(blocks)} in README.md; "
        f"missing: {sorted(set(wanted) - {block.key for block in blocks})}"
    )
    return blocks
