"""The benchmark: models x feature sets x splits x seeds, its metrics and its runner."""
