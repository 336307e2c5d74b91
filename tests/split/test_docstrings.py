"""The examples in hardneg.split's docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "hardneg.split",
        "hardneg.split._blocks",
        "hardneg.split._builtin",
        "hardneg.split._registry",
        "hardneg.split._splitters",
        "hardneg.split._strategies",
        "hardneg.split._store",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
