"""Shared pytest set-up for the whole suite.

The tests are packages mirroring ``src/hardneg`` (``tests.sample``, ``tests.mine``, ...);
shared helpers are imported as ``tests.helpers`` (the brute-force reference checker and
the synthetic-log builders).

This file makes Hypothesis deterministic by default (profile ``ci``): the same examples on
every run and machine, no example database carried between runs, and a failing example
printed as a reproduction blob. A failure then fails every run, not one run in N. To
search with fresh random examples locally, set ``HYPOTHESIS_PROFILE=random``.
"""

from __future__ import annotations

import os

from hypothesis import settings

# Registered and loaded here, before any test module is imported: a test's own @settings(...) inherits every
# option it does not set from the profile loaded at that moment.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("random", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
