"""Shared pytest set-up for the whole suite.

Puts the ``tests`` folder itself on ``sys.path`` so that test modules in any
sub-folder can ``import helpers`` (``tests/helpers`` is a plain package with the
brute-force reference checker and the synthetic-log builders). The test folders
have no ``__init__.py``, so without this only modules directly in ``tests/``
would see it.

It also makes Hypothesis deterministic by default (profile ``ci``): the same examples on
every run and machine, no example database carried between runs, and a failing example
printed as a reproduction blob. A failure then fails every run, not one run in N. To
search with fresh random examples locally, set ``HYPOTHESIS_PROFILE=random``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import settings

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

# Registered and loaded here, before any test module is imported: a test's own @settings(...) inherits every
# option it does not set from the profile loaded at that moment.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("random", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
