"""Synthetic data for ``hardneg demo`` and the tests."""

from hardneg.demo._run import DemoResult, describe_world, run_demo
from hardneg.demo._world import WorldFiles, generate_world

__all__ = ["DemoResult", "WorldFiles", "describe_world", "generate_world", "run_demo"]
