"""Every README block has a test; the set-up commands are what CI runs; every extra is named in the README."""

from __future__ import annotations

import re
import tomllib
from collections import Counter

from tests.readme._blocks import CASE_STUDY, README, REGISTRY, REPO, SETUP, readme_blocks, runnable_blocks


def _node_exists(node: str) -> bool:
    path, _, name = node.partition("::")
    file = REPO / path
    return file.is_file() and re.search(rf"^def {re.escape(name)}\(", file.read_text(), re.MULTILINE) is not None


def test_every_block_is_run_by_a_test():
    blocks = runnable_blocks()
    keys = [block.key for block in blocks]
    repeated = [key for key, count in Counter(keys).items() if count > 1]
    assert not repeated, f"README blocks with the same heading and first line, tell them apart: {repeated}"
    unregistered = [f"README.md line {block.line}: {block.key}" for block in blocks if block.key not in REGISTRY]
    assert not unregistered, (
        "README blocks that no test runs; run them in tests/readme and add them to REGISTRY in "
        "tests/readme/_blocks.py:\n" + "\n".join(unregistered)
    )
    stale = sorted(set(REGISTRY) - set(keys))
    assert not stale, f"REGISTRY names blocks the README no longer has: {stale}"
    missing = sorted({node for nodes in REGISTRY.values() for node in nodes if not _node_exists(node)})
    assert not missing, f"REGISTRY names tests that do not exist: {missing}"


def test_tests_here_take_their_blocks_from_the_registry():
    """A test in tests/readme runs what the registry gives it, by its own node id, not a copy of the text."""
    for nodes in REGISTRY.values():
        for node in nodes:
            path, _, name = node.partition("::")
            if not path.startswith("tests/readme/") or path.endswith("test_meta.py"):
                continue
            source = (REPO / path).read_text()
            assert f'HERE = "{path}"' in source and f'blocks_run_by(f"{{HERE}}::{name}")' in source, node


def test_the_delegated_case_study_reads_the_readme():
    source = (REPO / "tests/examples/test_readme_case_study.py").read_text()
    assert f'HEADING = "{CASE_STUDY}"' in source and '"README.md"' in source


def test_every_languageless_block_is_printed_output():
    """A block without a language is output (the demo's summary); a command in one would go untested."""
    for block in readme_blocks():
        if block.language == "":
            assert not re.search(r"^\s*(hardneg|python|pip|\$) ", block.text, re.MULTILINE), block.line


def test_setup_commands_are_what_ci_runs():
    demo, tests = [block.text.strip() for block in runnable_blocks() if block.heading == SETUP]
    assert ".venv" in demo and ".venv" in tests
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == tests, "the README's test command must be exactly what .ci/run runs"
    assert demo.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e . && ")
    assert demo.endswith(" && .venv/bin/hardneg demo")
    assert tests.startswith("python3 -m venv .venv && ")


def test_every_extra_is_named_in_the_readme():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    text = README.read_text(encoding="utf-8")
    setup = text.split(SETUP, 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"^- `([\w-]+)`: (.*)$", setup, re.MULTILINE))
    assert set(listed) == set(extras), f"the set-up section's extras list differs from pyproject.toml: {listed}"
    for name, requirements in extras.items():
        for requirement in requirements:
            inner = re.match(r"hardneg\[([\w,-]+)\]", requirement)
            for part in inner.group(1).split(",") if inner else ():
                assert f"`{part}`" in listed[name], f"extra {name} includes {part}; say so in the README"
