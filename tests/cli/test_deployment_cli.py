"""``--deployment`` of ``hardneg split`` and ``hardneg audit``: the choices, the audit it records, bad values."""

import json

import pytest

from hardneg import InputOptions, build_dataset
from hardneg.audit import DEPLOYMENTS
from hardneg.cli.common import choices
from hardneg.demo import generate_world


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("deployment")
    world = generate_world(root / "world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    return build_dataset(world.logs, root / "shots", inputs=InputOptions(events=world.events, groups=world.groups)).path


def squash(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def read_audit(dataset, name):
    audit = json.loads((dataset / "splits" / f"{name}.audit.json").read_text())
    return audit, {check["check"]: check["verdict"] for check in audit["checks"]}


@pytest.mark.parametrize("command", ["split", "audit"])
def test_help_lists_both_deployments(cli, command):
    text = squash(cli(command, "--help", columns=200).stdout)
    assert f"--deployment {choices(DEPLOYMENTS)}" in text
    assert "new-groups: the model will meet" in text and "seen-groups: the model is used on" in text


def test_split_audits_for_the_deployment_it_is_given_and_titles_the_audit_with_the_name(dataset, cli):
    result = cli("split", dataset, "--strategy", "time", "--name", "later", "--deployment", "seen-groups")
    assert result.returncode == 0, result.stderr
    audit, verdicts = read_audit(dataset, "later")
    assert audit["split"] == "later" and audit["deployment"] == "seen-groups"
    assert verdicts["group_overlap"] != "FAIL"
    printed = squash(result.stdout)
    assert "Audit of split later" in printed
    assert "Judged for deployment on groups already seen" in printed
    markdown = (dataset / "splits" / "later.audit.md").read_text().splitlines()
    assert markdown[0] == "# Audit of split `later`" and markdown[2].startswith("Judged for deployment on groups")

    # the same split audited for new groups: every group is shared, which that deployment cannot accept
    again = cli("audit", dataset, "--split", "later")
    assert again.returncode == 0, again.stderr
    audit, verdicts = read_audit(dataset, "later")
    assert audit["split"] == "later" and audit["deployment"] == "new-groups"
    assert verdicts["group_overlap"] == "FAIL"
    assert "Judged for deployment on new groups" in squash(again.stdout)


@pytest.mark.parametrize("command", ["split", "audit"])
def test_an_unknown_deployment_is_one_error_line(dataset, cli, command):
    args = ["--strategy", "group", "--name", "bad"] if command == "split" else ["--split", "later"]
    result = cli(command, dataset, *args, "--deployment", "seen")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "--deployment" in lines[0] and "seen-groups" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (dataset / "splits" / "bad.parquet").exists()
