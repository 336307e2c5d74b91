"""What the audit of each split says about trusting its scores."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hardneg._schema import FAIL, SKIP, VERDICTS, WARN
from hardneg.errors import InputError

__all__ = ["MARK", "NOT_AUDITED", "VERDICTS", "SplitTrust", "check_number_rows", "format_check_numbers", "split_trust"]

NOT_AUDITED = "NOT AUDITED"
MARK = "⚠"


@dataclass(frozen=True)
class SplitTrust:
    """The audit verdict of one split and the checks behind it.

    Attributes
    ----------
    split : str
    verdict : str
        The worst check verdict (``PASS``, ``WARN``, ``FAIL``, ``SKIP``) or ``NOT AUDITED``.
    checks : tuple of dict
        The audit's checks as given (``check, verdict, numbers, explanation``).

    Examples
    --------
    >>> trust = SplitTrust("random", "FAIL", ({"check": "group_confound", "verdict": "FAIL"},))
    >>> trust.untrustworthy, trust.failed_names
    (True, ('group_confound',))
    """

    split: str
    verdict: str
    checks: tuple = ()

    @property
    def untrustworthy(self) -> bool:
        """True when any check failed: the split's scores must not be quoted as generalisation."""
        return self.verdict == FAIL

    @property
    def audited(self) -> bool:
        return self.verdict != NOT_AUDITED

    @property
    def failed(self) -> tuple:
        return tuple(c for c in self.checks if c.get("verdict") == FAIL)

    @property
    def warned(self) -> tuple:
        return tuple(c for c in self.checks if c.get("verdict") == WARN)

    @property
    def failed_names(self) -> tuple[str, ...]:
        return tuple(str(c.get("check")) for c in self.failed)

    @property
    def label(self) -> str:
        """The split's name with the warning mark when untrustworthy, for table cells and titles."""
        return f"{self.split} {MARK}" if self.untrustworthy else self.split

    def short_reason(self) -> str:
        """One sentence for a table caption, naming the failing checks."""
        if self.untrustworthy:
            return (
                f"{MARK} Untrustworthy: the audit of split `{self.split}` FAILED "
                f"{_join(self.failed_names)}; its scores are likely inflated and must not be reported as "
                "generalisation."
            )
        if not self.audited:
            return f"Split `{self.split}` was not audited; run `hardneg audit` before trusting its scores."
        return ""


def _join(names: Sequence[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def split_trust(audits: Mapping[str, dict] | None, splits: Sequence[str]) -> dict[str, SplitTrust]:
    """Read each split's audit JSON dict into a :class:`SplitTrust`.

    Parameters
    ----------
    audits : mapping of split name -> audit dict, or None
        ``{"split", "verdict", "checks": [{"check", "verdict", "numbers", "explanation"}, ...]}``
        as written by ``hardneg audit`` (``NAME.audit.json``).
    splits : sequence of str
        The splits in the results; a split without an audit is ``NOT AUDITED``, an audit of a
        split that is not in the results is kept too.

    Returns
    -------
    dict
        Split name -> SplitTrust, in the order of ``splits`` then any extra audits.
        The verdict is the worst of the audit's own ``verdict`` and its checks' verdicts,
        so an audit whose summary disagrees with its checks still counts a FAIL.

    Raises
    ------
    InputError
        An audit is not a dict with a ``checks`` list of dicts, or a verdict is unknown.

    Examples
    --------
    >>> audit = {"split": "random", "verdict": "FAIL", "checks": [
    ...     {"check": "group_confound", "verdict": "FAIL", "numbers": {"auc": 0.97}, "explanation": "..."}]}
    >>> split_trust({"random": audit}, ["random", "group"])["group"].verdict
    'NOT AUDITED'
    """
    audits = {} if audits is None else audits
    if not isinstance(audits, Mapping):
        raise InputError(f"audits must map split name -> audit dict, got {type(audits).__name__}")
    out: dict[str, SplitTrust] = {}
    names = list(dict.fromkeys([*map(str, splits), *sorted(map(str, audits))]))
    by_name = {str(k): v for k, v in audits.items()}
    for name in names:
        audit = by_name.get(name)
        if audit is None:
            out[name] = SplitTrust(name, NOT_AUDITED)
            continue
        if not isinstance(audit, Mapping) or not isinstance(audit.get("checks"), list):
            raise InputError(
                f"audit of split {name!r}: expected a dict with a 'checks' list (NAME.audit.json), "
                f"got {type(audit).__name__}"
            )
        checks = []
        for i, check in enumerate(audit["checks"]):
            if not isinstance(check, Mapping) or check.get("verdict") not in VERDICTS:
                verdict = check.get("verdict") if isinstance(check, Mapping) else check
                raise InputError(
                    f"audit of split {name!r}: check #{i} has verdict {verdict!r}; expected one of "
                    f"{', '.join(VERDICTS)}"
                )
            checks.append(dict(check))
        verdicts = [c["verdict"] for c in checks]
        if audit.get("verdict") in VERDICTS:
            verdicts.append(audit["verdict"])
        worst = max(verdicts, key=VERDICTS.index) if verdicts else SKIP
        out[name] = SplitTrust(name, worst, tuple(checks))
    return out


def format_check_numbers(numbers, *, max_items: int = 8, max_list: int = 5) -> str:
    """A compact, deterministic ``key = value`` rendering of a check's numbers.

    Examples
    --------
    >>> format_check_numbers({"auc": 0.97321, "n_groups": 48, "per_fold": [0.9, 0.95, 0.99]})
    'auc = 0.9732; n_groups = 48; per_fold = [0.9, 0.95, 0.99]'
    """
    if not isinstance(numbers, Mapping):
        return _value(numbers, max_list)
    items = [f"{key} = {_value(numbers[key], max_list)}" for key in list(numbers)[:max_items]]
    if len(numbers) > max_items:
        items.append(f"… {len(numbers) - max_items} more")
    return "; ".join(items)


def _value(value, max_list: int) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(_value(v, max_list) for v in value[:max_list])
        more = f", … ({len(value)} in all)" if len(value) > max_list else ""
        return f"[{shown}{more}]"
    if isinstance(value, Mapping):
        return "{" + format_check_numbers(value, max_items=max_list, max_list=max_list) + "}"
    if isinstance(value, str):
        return value
    # numpy scalars and anything else JSON can show.
    try:
        return _value(value.item(), max_list)
    except AttributeError:
        return json.dumps(value, default=str)


#: Numbers a check reports as a share of windows, groups or predictions: shown as percentages.
_SHARE_MARKS = ("share", "_in_train_groups", "accuracy", "chance", "_rate")


def check_number_rows(check: Mapping, *, max_rows: int = 6) -> list[tuple[str, str]]:
    """The scalar numbers of one check as ``(what, value)`` rows for a small table; shares as percentages.

    Lists and nested tables (per fold, examples) are left to the audit's own report.

    Examples
    --------
    >>> check_number_rows({"numbers": {"shared_groups": 6, "test_windows_in_train_groups": 1.0,
    ...                                "group_auc": 0.5510, "per_fold": [1, 2]}})
    [('shared groups', '6'), ('test windows in train groups', '100.0%'), ('group auc', '0.551')]
    """
    numbers = check.get("numbers") if isinstance(check, Mapping) else None
    if not isinstance(numbers, Mapping):
        return []
    rows = []
    for key, value in numbers.items():
        if isinstance(value, bool) or value is None or isinstance(value, (list, tuple, Mapping)):
            continue
        name = str(key).replace("_", " ")
        if isinstance(value, float) and any(mark in str(key) for mark in _SHARE_MARKS) and 0.0 <= value <= 1.0:
            rows.append((name, f"{100.0 * value:.1f}%"))
        elif isinstance(value, float):
            rows.append((name, "n/a" if math.isnan(value) else f"{value:.4g}"))
        else:
            rows.append((name, str(value)))
    return rows[:max_rows]
