"""Leakage and confound checks for a split (and, given predictions, for a model's scores).

Each check is a registered plug-in returning a :class:`CheckResult`: a
verdict (PASS, WARN, FAIL, or SKIP with the reason), its numbers and a
paragraph saying what was measured and what to do.

>>> from hardneg import Dataset
>>> from hardneg.audit import AuditContext, run_audit, write_audit
>>> context = AuditContext(Dataset.load("mitdb_v"), frame, info)  # doctest: +SKIP
>>> report = run_audit(context)  # doctest: +SKIP
>>> report["group_confound"].verdict  # doctest: +SKIP
'FAIL'
"""

from hardneg.audit import checks as _checks  # noqa: F401  (registers the built-in checks)
from hardneg.audit.base import (
    CHECKS,
    FAIL,
    PASS,
    SKIP,
    VERDICTS,
    WARN,
    AuditContext,
    Check,
    CheckResult,
    register_check,
    worst_verdict,
)
from hardneg.audit.report import AuditReport, audit_paths, audit_split, read_predictions, run_audit, write_audit

__all__ = [
    "CHECKS",
    "FAIL",
    "PASS",
    "SKIP",
    "VERDICTS",
    "WARN",
    "AuditContext",
    "AuditReport",
    "Check",
    "CheckResult",
    "audit_paths",
    "audit_split",
    "read_predictions",
    "register_check",
    "run_audit",
    "worst_verdict",
    "write_audit",
]
