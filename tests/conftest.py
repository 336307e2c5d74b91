"""Shared pytest set-up for the whole suite.

Puts the ``tests`` folder itself on ``sys.path`` so that test modules in any
sub-folder can ``import helpers`` (``tests/helpers`` is a plain package with the
brute-force reference checker and the synthetic-log builders). The test folders
have no ``__init__.py``, so without this only modules directly in ``tests/``
would see it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)
