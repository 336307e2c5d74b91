"""Leakage and confound checks for a split (and, given predictions, for a model's scores).

Each check is a registered plug-in returning a :class:`CheckResult`: a
verdict (PASS, WARN, FAIL, or SKIP with the reason), its numbers and a
paragraph saying what was measured and what to do.

A split is judged against the deployment its score is meant to predict
(``deployment`` of :class:`AuditContext`, one of :data:`DEPLOYMENTS`):
``"new-groups"``, the default, for a model that will meet new subjects,
sessions or cameras, where a group in training and test is a leak; or
``"seen-groups"`` for a model used on the groups it was trained on, where
shared groups are by design and only leaks in time and placement count.

A small synthetic world (:func:`hardneg.demo.generate_world`: four sessions, two shooters) and a random split:

>>> import tempfile
>>> from hardneg import InputOptions, build_dataset
>>> from hardneg.demo import generate_world
>>> from hardneg.split import make_split
>>> tmp = tempfile.TemporaryDirectory()
>>> world = generate_world(f"{tmp.name}/world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
>>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
...                         inputs=InputOptions(events=world.events, groups=world.groups))
>>> frame, info = make_split(dataset.path, "random", seed=0)
>>> from hardneg import Dataset
>>> from hardneg.audit import AuditContext, run_audit, write_audit
>>> context = AuditContext(Dataset.load(f"{tmp.name}/shots"), frame, info)
>>> report = run_audit(context)
>>> report["group_overlap"].verdict, report["group_confound"].verdict
('FAIL', 'FAIL')
>>> seen = run_audit(AuditContext(Dataset.load(f"{tmp.name}/shots"), frame, info, deployment="seen-groups"))
>>> seen["group_overlap"].verdict, seen["temporal_overlap"].verdict
('PASS', 'FAIL')
>>> json_path, md_path = write_audit(report, f"{tmp.name}/random.audit.json", f"{tmp.name}/random.audit.md")
>>> md_path.read_text().splitlines()[0]
'# Audit of split `random`'
>>> tmp.cleanup()
"""

from hardneg.audit import checks as _checks  # noqa: F401  (registers the built-in checks)
from hardneg.audit._base import (
    CHECKS,
    DEPLOYMENTS,
    FAIL,
    NEW_GROUPS,
    PASS,
    SEEN_GROUPS,
    SKIP,
    VERDICTS,
    WARN,
    AuditContext,
    Check,
    CheckResult,
    register_check,
    worst_verdict,
)
from hardneg.audit._report import (
    AuditReport,
    audit_paths,
    audit_split,
    deployment_line,
    read_predictions,
    run_audit,
    write_audit,
)

__all__ = [
    "CHECKS",
    "DEPLOYMENTS",
    "FAIL",
    "NEW_GROUPS",
    "PASS",
    "SEEN_GROUPS",
    "SKIP",
    "VERDICTS",
    "WARN",
    "AuditContext",
    "AuditReport",
    "Check",
    "CheckResult",
    "audit_paths",
    "audit_split",
    "deployment_line",
    "read_predictions",
    "register_check",
    "run_audit",
    "worst_verdict",
    "write_audit",
]
