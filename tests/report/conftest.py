"""Fixtures for the report tests, built by :mod:`bench_synth`."""

from __future__ import annotations

import pytest
from tests.report.bench_synth import META, make_audits, make_results, make_scores


@pytest.fixture(scope="session")
def results():
    return make_results()


@pytest.fixture(scope="session")
def scores():
    return make_scores()


@pytest.fixture
def audits():
    return make_audits()


@pytest.fixture
def meta():
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in META.items()}
