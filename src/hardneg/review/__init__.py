"""Review mined candidates: a decision log, the page that writes it, and exports of what was decided.

:class:`ReviewStore` keeps the decisions (SQLite, append-only, no web
import); :class:`ReviewSet` is a mined folder's candidates with their filters
and orders; :func:`create_app` builds the web page (FastAPI, the ``review``
extra) and :func:`export_review` writes manifests, YOLO and COCO datasets.
"""

from hardneg.review._candidates import SORTS, Filters, ReviewSet, candidate_key
from hardneg.review._export import EXPORT_FORMATS, ExportResult, export_review
from hardneg.review._store import CURRENT_COLUMNS, EVENT_COLUMNS, ReviewStore, agreement_table, check_states

__all__ = [
    "CURRENT_COLUMNS",
    "EVENT_COLUMNS",
    "EXPORT_FORMATS",
    "SORTS",
    "ExportResult",
    "Filters",
    "ReviewSet",
    "ReviewStore",
    "agreement_table",
    "candidate_key",
    "check_states",
    "export_review",
]
