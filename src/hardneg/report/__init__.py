"""Bench reports: Markdown and self-contained HTML with bootstrap summaries, audits and plots.

This floor renders: :class:`Document` is the one document model (Markdown
and HTML from the same blocks), and :func:`write_bench_report` draws the
figures into it; :func:`write_stream_report` and :func:`write_stream_comparison`
render whole-recording (stream) evaluations from their plain summaries. The numbers come from :mod:`hardneg.stats`.

Examples
--------
Three seeds of a model and a baseline on two splits, without scores (so without plots):

>>> import tempfile, pandas as pd
>>> from hardneg._schema import RESULT_COLUMNS
>>> rows = [(model, "rich", split, seed, 0, "test", metric, value)
...         for model, split, values in [("et", "random", [0.95, 0.97, 0.96]), ("et", "group", [0.81, 0.84, 0.8]),
...                                      ("prior", "random", [0.5] * 3), ("prior", "group", [0.5] * 3)]
...         for metric in ("average_precision", "roc_auc") for seed, value in enumerate(values)]
>>> results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
>>> audit = {"split": "random", "verdict": "FAIL", "checks": [{"check": "group_overlap", "verdict": "FAIL",
...          "numbers": {"shared_groups": 2}, "explanation": "Train and test share groups."}]}
>>> from hardneg.report import write_bench_report
>>> with tempfile.TemporaryDirectory() as tmp:
...     md, html = write_bench_report(f"{tmp}/bench", results, None, {"random": audit}, {"baselines": ["prior"]})
...     [line for line in md.read_text().splitlines() if line.startswith("## ")][:3]
['## What was run', '## Audit', '## Best model per split']
"""

import importlib

from hardneg.report._render import Bullets, Document, Heading, Image, Paragraph, Table
from hardneg.report._trust import SplitTrust, split_trust

# The audit and mining write their Markdown with render.Document; importing the bench report (matplotlib, SciPy)
# only when a name of it is used keeps those imports out of `hardneg audit` and `hardneg mine`.
_LAZY = {
    "GAIN_METRICS": "hardneg.report._bench_report",
    "TABLE_METRICS": "hardneg.report._bench_report",
    "write_bench_report": "hardneg.report._bench_report",
    "experiment_document": "hardneg.report._experiment_report",
    "write_experiment_report": "hardneg.report._experiment_report",
    "stream_comparison_document": "hardneg.report._stream_report",
    "stream_report_document": "hardneg.report._stream_report",
    "write_stream_comparison": "hardneg.report._stream_report",
    "write_stream_report": "hardneg.report._stream_report",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "GAIN_METRICS",
    "TABLE_METRICS",
    "Bullets",
    "Document",
    "Heading",
    "Image",
    "Paragraph",
    "SplitTrust",
    "Table",
    "experiment_document",
    "split_trust",
    "stream_comparison_document",
    "stream_report_document",
    "write_bench_report",
    "write_experiment_report",
    "write_stream_comparison",
    "write_stream_report",
]
