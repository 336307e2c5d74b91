"""Tests of the examples/ folder: the ECG feature function and the README case study that uses it."""
