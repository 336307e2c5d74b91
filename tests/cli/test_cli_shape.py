"""The shape every command shares: help panels and choices, ``-q``, ``--jobs -1``, and library errors shown
with the flag the user typed."""

from __future__ import annotations

import dataclasses
import re

import pytest

from hardneg.cli.main import COMMANDS, describe, load_commands
from hardneg.errors import InputError


def command(name: str):
    """The click command ``hardneg NAME`` runs."""
    return load_commands(COMMANDS[name][0])[name]


def leaves() -> list[str]:
    """Every command a user runs: ``stream`` is a group, so its sub-commands (``stream score``) stand for it."""
    found = []
    for name in COMMANDS:
        subs = getattr(command(name), "commands", None)
        found += [f"{name} {sub}" for sub in subs] if subs else [name]
    return found


def leaf(words: str):
    """The click command ``hardneg WORDS`` runs."""
    first, *rest = words.split()
    found = command(first)
    for word in rest:
        found = found.commands[word]
    return found


def squash(text: str) -> str:
    """Help text without the panels' borders and line breaks."""
    return " ".join(text.replace("│", " ").split())


def option_names(help_text: str) -> set[str]:
    """Every complete ``--long-option`` token in a help text (a name cut short by '…' is not one)."""
    return set(re.findall(r"(--[a-z][a-z0-9-]*)(?![a-z0-9…-])", help_text))


# ---------------------------------------------------------------------------- help


@pytest.mark.parametrize("columns", [80, 120])
def test_top_level_help_shows_every_command_summary_whole(cli, columns):
    result = cli("--help", columns=columns)
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    text = squash(result.stdout)
    for name, (_, summary) in COMMANDS.items():
        assert f"{name} {summary}" in text, name


@pytest.mark.parametrize("name", leaves())
def test_every_option_is_named_in_full_on_80_columns(cli, name):
    result = cli(*name.split(), "--help", columns=80)
    assert result.returncode == 0, result.stderr
    declared = {opt for param in leaf(name).params for opt in param.opts if opt.startswith("--")}
    missing = sorted(declared - option_names(result.stdout))
    assert not missing, f"cut or missing in `hardneg {name} --help` at 80 columns: {missing}"


def test_sample_help_has_panels_and_every_choice(cli):
    from hardneg.cli.common import choices
    from hardneg.io._sensor import TIME_UNITS
    from hardneg.sample._config import ALIGNMENTS, EDGE_MODES
    from hardneg.sample._negatives import NEGATIVE_STRATEGIES

    STRATEGIES = tuple(NEGATIVE_STRATEGIES)

    result = cli("sample", "--help", columns=200)
    assert result.returncode == 0, result.stderr
    for title in ("Inputs", "Positive windows", "Negative windows", "Negative draws", "Motion", "Hard negatives",
                  "Output"):  # fmt: skip
        assert f"─ {title} ─" in result.stdout, title
    text = squash(result.stdout)
    for option, names in (
        ("--align", ALIGNMENTS),
        ("--neg-strategy", STRATEGIES),
        ("--neg-avoid-edges", EDGE_MODES),
        ("--time-unit", tuple(TIME_UNITS)),
    ):
        assert f"{option} {choices(names)}" in text, option
    assert "<near | far | mixed | uniform>" in text


@pytest.mark.parametrize(
    ("name", "option", "names"),
    [
        ("split", "--strategy", "hardneg.split:STRATEGIES"),
        ("train", "--model", "hardneg.models:MODELS"),
        ("train", "--features", "hardneg.features:FEATURE_SETS"),
        ("mine", "--short-items", "hardneg.score:SHORT_ITEMS"),
        ("mine", "--engine", "hardneg.cli.mine:ENGINES"),
    ],
)
def test_choice_options_list_their_choices(cli, name, option, names):
    import importlib

    from hardneg.cli.common import choices

    module, attribute = names.split(":")
    values = tuple(getattr(importlib.import_module(module), attribute))
    result = cli(name, "--help", columns=200)
    assert f"{option} {choices(values)}" in squash(result.stdout)


def test_bench_lists_models_and_features(cli):
    from hardneg.features import FEATURE_SETS
    from hardneg.models import MODELS

    text = squash(cli("bench", "--help", columns=200).stdout)
    assert ", ".join(MODELS) in text and ", ".join(FEATURE_SETS) in text


def test_every_config_field_is_an_option_of_its_command():
    """The configs are built field by field from the options of the same name."""
    from hardneg.build import InputOptions
    from hardneg.mine._engine import MineOptions
    from hardneg.sample import SamplingConfig

    sample_options = {param.name for param in command("sample").params}
    for config in (SamplingConfig, InputOptions):
        assert {field.name for field in dataclasses.fields(config)} <= sample_options, config.__name__
    mine_options = {param.name for param in command("mine").params}
    assert {field.name for field in dataclasses.fields(MineOptions)} <= mine_options


# ---------------------------------------------------------------------------- errors


def test_library_parameter_is_shown_as_the_flag():
    sample = command("sample")
    error = InputError("window_ms must be a number > 0, got 0", parameter="window_ms")
    assert describe(error, sample) == "--window-ms must be a number > 0, got 0"
    assert describe(InputError("seed must be an integer, got -1", parameter="seed"), sample).startswith("--seed must")
    # neither a message about something else, nor a parameter the command has no option for, is rewritten
    assert describe(InputError("events.csv: 'window_ms'", parameter="window_ms"), sample) == "events.csv: 'window_ms'"
    # other parameters a message names are shown as flags too, but not a quoted name (a column) or a path
    message = "lead_ms 5 with window_ms 0; see logs/window_ms.csv, column 'window_ms'"
    assert describe(InputError(message, parameter="lead_ms"), sample) == (
        "--lead-ms 5 with --window-ms 0; see logs/window_ms.csv, column 'window_ms'"
    )
    assert describe(InputError("bench_seeds must be >= 0", parameter="bench_seeds"), sample).startswith("bench_seeds")
    # a library parameter named unlike its flag maps too: the option's parameter carries the library's name
    assert describe(InputError("bench_seeds must be >= 0", parameter="bench_seeds"), command("demo")) == (
        "--seeds must be >= 0"
    )
    assert describe(InputError("exclude_split: no split q", parameter="exclude_split"), command("mine")) == (
        "--split: no split q"
    )
    assert describe(InputError("window_ms_x bad", parameter="window_ms"), sample) == "window_ms_x bad"
    assert describe(InputError("two\nlines", parameter=None), sample) == "two lines"


def test_input_error_from_the_library_names_the_flag_end_to_end(cli, tmp_path, world):
    result = cli("sample", *world.logs, "--events", world.events, "--out", tmp_path / "o", "--seed", "-1")
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "seed" in lines[0]
    result = cli("bench", tmp_path, "--out", tmp_path / "b", "--jobs", "-2")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --jobs must be a positive integer"), result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- -q and --jobs


def test_every_command_has_quiet_and_every_jobs_option_takes_minus_one():
    for name in leaves():
        opts = {opt for param in leaf(name).params for opt in param.opts}
        assert {"-q", "--quiet"} <= opts, name
    with_jobs = {name for name in COMMANDS if any("--jobs" in param.opts for param in command(name).params)}
    assert with_jobs == {"bench", "demo", "experiment"}  # each is run with --jobs -1 below


#: commands whose output existing tests read under --quiet (tests/mine, tests/cli/test_evaluation_cli.py)
KEEP_OUTPUT_UNDER_QUIET = {"bench", "mine"}


@pytest.fixture(scope="module")
def quiet_runs(tmp_path_factory, cli):
    from hardneg.demo._run import run_demo

    root = tmp_path_factory.mktemp("quiet")
    demo = run_demo(root / "demo", seed=2)
    world, dataset = demo.world.root, demo.dataset.path
    logs = sorted((world / "logs").glob("*.parquet"))
    runs = {}
    steps = [
        ("sample", [*logs, "--events", world / "events.csv", "--groups", world / "groups.csv", "--out", root / "s"]),
        ("split", [dataset, "--strategy", "group", "--name", "q"]),
        ("audit", [dataset, "--split", "q"]),
        ("train", [dataset, "--split", "q", "--out", root / "model"]),
        ("predict", [root / "model", dataset, "--trust-model", "--out", root / "p.parquet"]),
        ("mine", [world / "pool" / "p01.parquet", "--model", root / "model", "--trust-model", "--out", root / "m"]),
        ("export", [root / "m", "--format", "manifest", "--out", root / "r"]),
        ("bench", [dataset, "--models", "logreg", "--features", "summary", "--splits", "random", "--seeds", "1",
                   "--jobs", "-1", "--out", root / "b"]),  # fmt: skip
        ("demo", ["--out", root / "d", "--no-bench", "--no-mine", "--jobs", "-1"]),
        ("stream score", [*logs[:2], "--model", root / "model", "--trust-model", "--hop-ms", "100", "--out", root / "t"]),
        ("stream evaluate", [root / "t", "--events", world / "events.csv", "--target-start-ms", "-600",
                             "--target-end-ms", "0", "--out", root / "e"]),  # fmt: skip
        ("experiment", [root / "x.yaml", "--jobs", "-1", "--out", root / "x"]),
    ]
    (root / "x.yaml").write_text(
        f"dataset: {dataset}\nseeds: 2\nmodel: logreg\nn_resamples: 100\nbaseline: {{positives: all}}\n"
        "arms: {positives: {all: {}, half: {fraction: 0.5}}}\neval: {iid: {split: group}}\n"
    )
    for name, args in steps:
        if name == "export":  # a decision to export
            from hardneg.review import ReviewSet, ReviewStore

            with ReviewStore(root / "m" / "review.sqlite") as store:
                store.decide(ReviewSet.load(root / "m").table["key"].iloc[0], "negative", request_id="q")
        runs[name] = cli(*name.split(), *args, "-q")
    from tests.review._fixtures import ReviewServer  # a server: started, asked for its page, stopped

    server = ReviewServer(root / "m", "-q")
    runs["review"] = server.stop()
    return runs


@pytest.mark.parametrize("name", leaves())
def test_quiet_prints_no_summary(quiet_runs, name):
    result = quiet_runs[name]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if name not in KEEP_OUTPUT_UNDER_QUIET:
        assert result.stdout == "", result.stdout
