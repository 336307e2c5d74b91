"""The synthetic bench results the summary statistics are tested on (shared with the report tests)."""

from tests.report.conftest import audits, meta, results, scores  # noqa: F401  (fixtures)
