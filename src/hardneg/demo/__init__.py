"""Synthetic data for ``hardneg demo`` and the tests."""

from hardneg.demo.world import WorldFiles, generate_world

__all__ = ["WorldFiles", "generate_world"]
