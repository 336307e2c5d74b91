"""Review mined candidates: a decision log, the page that writes it, and exports of what was decided.

:class:`ReviewStore` keeps the decisions (SQLite, append-only, no web
import); :class:`ReviewSet` is a mined folder's candidates with their filters
and orders; :func:`create_app` builds the web page (FastAPI, the ``review``
extra) and :func:`export_review` writes manifests, YOLO and COCO datasets.
"""

from hardneg.review._app import TOKEN_HEADER, check_port_free, create_app, is_loopback, require_web, serve
from hardneg.review._candidates import SORTS, Filters, ReviewSet, candidate_key
from hardneg.review._export import EXPORT_FORMATS, ExportResult, export_review
from hardneg.review._media import ReviewMedia, channel_groups
from hardneg.review._session import ReviewSession, default_reviewer
from hardneg.review._store import CURRENT_COLUMNS, EVENT_COLUMNS, ReviewStore, agreement_table, check_states

__all__ = [
    "CURRENT_COLUMNS",
    "EVENT_COLUMNS",
    "EXPORT_FORMATS",
    "SORTS",
    "TOKEN_HEADER",
    "ExportResult",
    "Filters",
    "ReviewMedia",
    "ReviewSession",
    "ReviewSet",
    "ReviewStore",
    "agreement_table",
    "candidate_key",
    "channel_groups",
    "check_port_free",
    "check_states",
    "create_app",
    "default_reviewer",
    "export_review",
    "is_loopback",
    "require_web",
    "serve",
]
