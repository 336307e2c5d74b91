"""The review decisions: an append-only log in SQLite (``review.sqlite`` next to the mined outputs).

Every decision is an event (candidate, state, category, reviewer, time,
request id); the current state of a candidate is derived from the log: its
latest decision that no undo event took back. Undo is itself an event, so
nothing is ever rewritten and the log says who did what, when.

What the page relies on:

- **Durable when acknowledged**: each request is one transaction, committed
  with ``synchronous=FULL`` in WAL mode before :meth:`ReviewStore.decide`
  returns, so a decision the page was told about survives ``kill -9`` of the
  server (and a power cut, as far as the disk keeps its promises).
- **Idempotent retries**: the client's request id is stored with the
  response in the same transaction; the same id again returns the stored
  response and writes nothing.
- **Several tabs, reviewers or servers at once**: writes take SQLite's
  write lock up front (``BEGIN IMMEDIATE``) and wait for it (a busy timeout)
  instead of failing with "database is locked"; sequence numbers follow the
  commit order, so every reader derives the same state.

This module is plain :mod:`sqlite3`: exporting and testing need no web extra.

Examples
--------
>>> import tempfile
>>> store = ReviewStore(tempfile.mkdtemp() + "/review.sqlite", reviewer="ana")
>>> store.decide("a@0", "negative", category="cones", request_id="r1")["state"]
'negative'
>>> store.decide("a@0", "negative", category="cones", request_id="r1")["seq"]  # a retry writes nothing
1
>>> _ = store.decide("b@500", "positive", request_id="r2")
>>> store.current()[["candidate", "state", "category"]].values.tolist()
[['a@0', 'negative', 'cones'], ['b@500', 'positive', None]]
>>> store.undo(request_id="r3")["undone"]
['b@500']
>>> store.current()["candidate"].tolist()
['a@0']
>>> store.close()
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from hardneg._schema import REVIEW_STATES
from hardneg.errors import InputError

__all__ = ["CURRENT_COLUMNS", "EVENT_COLUMNS", "ReviewStore", "agreement_table", "check_states"]

#: one row per decided candidate: its latest decision not undone
CURRENT_COLUMNS = ("candidate", "state", "category", "reviewer", "decided_at", "seq")
EVENT_COLUMNS = ("seq", "kind", "candidate", "state", "category", "reviewer", "at", "request_id", "undoes")
_BUSY_MS = 30_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('decision', 'undo')),
    candidate TEXT NOT NULL,
    state TEXT,
    category TEXT,
    reviewer TEXT NOT NULL,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    undoes INTEGER REFERENCES events (seq)
);
CREATE INDEX IF NOT EXISTS events_request ON events (request_id);
CREATE INDEX IF NOT EXISTS events_reviewer ON events (reviewer, seq);
CREATE UNIQUE INDEX IF NOT EXISTS events_undoes ON events (undoes) WHERE undoes IS NOT NULL;
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    response TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ReviewStore:
    """The decision log of one mined folder.

    Safe to share between threads (one writer connection behind a lock, one
    reader connection per thread) and between processes (SQLite's own locks).

    Parameters
    ----------
    path : path
        The SQLite file; created with its tables when missing.
    reviewer : str
        Who decides when a call does not say.
    """

    def __init__(self, path, *, reviewer: str = "reviewer"):
        self.path = Path(path)
        self.reviewer = _check_reviewer(reviewer)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        try:
            self._writer = self._connect()
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._writer.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise InputError(f"{self.path}: not a review database ({error}); move it away to start afresh") from None
        # Derived state, kept up to date incrementally: candidate -> its decisions not undone, oldest first.
        self._seen = 0
        self._stacks: dict[str, list[tuple]] = {}
        self._derive_lock = threading.Lock()

    # ------------------------------------------------------------------ connections

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        connection.execute("PRAGMA synchronous=FULL")  # an acknowledged decision is on disk, not in a page cache
        connection.execute("PRAGMA foreign_keys=ON")
        self._connections.append(connection)
        return connection

    def _reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    def close(self) -> None:
        """Close every connection this store opened."""
        for connection in self._connections:
            connection.close()
        self._connections.clear()
        self._local = threading.local()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ writing

    def _write(self, request_id: str, build) -> dict:
        """Run ``build(cursor) -> response`` as one transaction, once per request id."""
        request_id = _check_request_id(request_id)
        with self._lock:
            cursor = self._writer.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                row = cursor.execute("SELECT response FROM requests WHERE request_id = ?", (request_id,)).fetchone()
                if row is not None:
                    cursor.execute("ROLLBACK")
                    return {**json.loads(row[0]), "replayed": True}
                response = build(cursor)
                cursor.execute(
                    "INSERT INTO requests (request_id, response) VALUES (?, ?)", (request_id, json.dumps(response))
                )
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        return {**response, "replayed": False}

    def decide(
        self, candidate: str, state: str, *, category: str | None = None, reviewer: str | None = None,
        request_id: str,
    ) -> dict:  # fmt: skip
        """Record one decision; return ``{"seq", "candidate", "state", "category", "reviewer", "at", "replayed"}``.

        Returns only after the decision is committed. The same ``request_id``
        again returns the first response (``replayed`` true) and records nothing.
        """
        return self.decide_many([candidate], state, category=category, reviewer=reviewer, request_id=request_id,
                                single=True)  # fmt: skip

    def decide_many(
        self, candidates: Sequence[str], state: str, *, category: str | None = None, reviewer: str | None = None,
        request_id: str, single: bool = False,
    ) -> dict:  # fmt: skip
        """Record the same decision on many candidates in one transaction (a bulk assignment).

        Returns ``{"seq": [first, last], "count", "state", "category", "reviewer", "at", "replayed"}``; undo
        takes the whole request back.
        """
        state = _check_state(state)
        category = _check_category(category)
        reviewer = _check_reviewer(reviewer or self.reviewer)
        candidates = [_check_candidate(candidate) for candidate in candidates]
        if not candidates:
            raise InputError("candidates: nothing selected", parameter="candidates")

        def build(cursor):
            at = _now()
            cursor.executemany(
                "INSERT INTO events (kind, candidate, state, category, reviewer, at, request_id) "
                "VALUES ('decision', ?, ?, ?, ?, ?, ?)",
                [(candidate, state, category, reviewer, at, request_id) for candidate in candidates],
            )
            last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
            common = {"state": state, "category": category, "reviewer": reviewer, "at": at}
            if single:
                return {"seq": last, "candidate": candidates[0], **common}
            return {"seq": [last - len(candidates) + 1, last], "count": len(candidates), **common}

        return self._write(request_id, build)

    def undo(self, *, reviewer: str | None = None, request_id: str) -> dict:
        """Take back ``reviewer``'s latest request that is not taken back yet (one decision, or a whole bulk one).

        Returns ``{"undone": [candidates], "request": the request undone or None, "replayed"}``.
        """
        reviewer = _check_reviewer(reviewer or self.reviewer)

        def build(cursor):
            row = cursor.execute(
                "SELECT e.request_id FROM events e WHERE e.kind = 'decision' AND e.reviewer = ? "
                "AND NOT EXISTS (SELECT 1 FROM events u WHERE u.undoes = e.seq) ORDER BY e.seq DESC LIMIT 1",
                (reviewer,),
            ).fetchone()
            if row is None:
                return {"undone": [], "request": None}
            events = cursor.execute(
                "SELECT seq, candidate FROM events e WHERE e.kind = 'decision' AND e.request_id = ? "
                "AND NOT EXISTS (SELECT 1 FROM events u WHERE u.undoes = e.seq) ORDER BY seq",
                (row[0],),
            ).fetchall()
            at = _now()
            cursor.executemany(
                "INSERT INTO events (kind, candidate, reviewer, at, request_id, undoes) VALUES ('undo', ?, ?, ?, ?, ?)",
                [(candidate, reviewer, at, request_id, seq) for seq, candidate in events],
            )
            return {"undone": [candidate for _, candidate in events], "request": row[0]}

        return self._write(request_id, build)

    def set_meta(self, key: str, value) -> None:
        """Keep a JSON value under ``key`` (the categories of this review, for one)."""
        with self._lock:
            self._writer.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def get_meta(self, key: str, default=None):
        row = self._reader().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # ------------------------------------------------------------------ reading

    def events(self) -> pd.DataFrame:
        """The whole log, oldest first (columns :data:`EVENT_COLUMNS`)."""
        rows = self._reader().execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY seq").fetchall()
        return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))

    def _refresh(self) -> dict[str, list[tuple]]:
        """Apply the events committed since the last call (by anyone) to the derived state."""
        with self._derive_lock:
            rows = self._reader().execute(
                "SELECT seq, kind, candidate, state, category, reviewer, at, undoes FROM events WHERE seq > ? "
                "ORDER BY seq",
                (self._seen,),
            ).fetchall()
            for seq, kind, candidate, state, category, reviewer, at, undoes in rows:
                stack = self._stacks.setdefault(candidate, [])
                if kind == "decision":
                    stack.append((seq, state, category, reviewer, at))
                else:
                    stack[:] = [entry for entry in stack if entry[0] != undoes]
                    if not stack:
                        del self._stacks[candidate]
                self._seen = seq
            return self._stacks

    @property
    def version(self) -> int:
        """The latest sequence number applied: changes whenever anyone writes."""
        self._refresh()
        return self._seen

    def current(self) -> pd.DataFrame:
        """One row per decided candidate, its latest decision not undone (:data:`CURRENT_COLUMNS`), by candidate."""
        stacks = self._refresh()
        rows = [(candidate, *stack[-1][1:], stack[-1][0]) for candidate, stack in sorted(stacks.items())]
        table = pd.DataFrame(rows, columns=list(CURRENT_COLUMNS), dtype=object)  # an absent category stays None
        return table.astype({"seq": "int64"})

    def current_map(self) -> dict[str, tuple[str, str | None, str]]:
        """``candidate -> (state, category, reviewer)`` of the latest decision not undone."""
        stacks = self._refresh()
        return {candidate: stack[-1][1:4] for candidate, stack in stacks.items()}

    def by_reviewer(self) -> pd.DataFrame:
        """Each reviewer's latest decision per candidate, not undone: ``candidate, reviewer, state, category``."""
        events = self.events()
        if events.empty:
            return pd.DataFrame(columns=["candidate", "reviewer", "state", "category"])
        undone = set(events["undoes"].dropna().astype("int64"))
        decisions = events[(events["kind"] == "decision") & ~events["seq"].isin(undone)]
        latest = decisions.sort_values("seq").groupby(["candidate", "reviewer"], sort=True).tail(1)
        return latest[["candidate", "reviewer", "state", "category"]].sort_values(["candidate", "reviewer"])


def agreement_table(decisions: pd.DataFrame, *, by: str = "state") -> pd.DataFrame:
    """Cohen's kappa for every pair of reviewers, on the candidates both decided.

    Parameters
    ----------
    decisions : DataFrame
        ``candidate, reviewer`` and the column ``by`` (as :meth:`ReviewStore.by_reviewer` gives).
    by : str
        What is compared: ``state`` or ``category``.

    Returns
    -------
    DataFrame
        ``reviewer_a, reviewer_b, n_both, agree, kappa`` (kappa from scikit-learn; NaN when fewer than two
        candidates are shared or both reviewers used a single label).

    Examples
    --------
    >>> decisions = pd.DataFrame({"candidate": list("abcdabcd"), "reviewer": ["ana"] * 4 + ["ben"] * 4,
    ...                           "state": ["negative", "negative", "positive", "unsure",
    ...                                     "negative", "positive", "positive", "unsure"]})
    >>> agreement_table(decisions).round(3).to_dict("records")
    [{'reviewer_a': 'ana', 'reviewer_b': 'ben', 'n_both': 4, 'agree': 3, 'kappa': 0.636}]
    """
    from sklearn.metrics import cohen_kappa_score

    columns = ["reviewer_a", "reviewer_b", "n_both", "agree", "kappa"]
    reviewers = sorted(decisions["reviewer"].unique())
    rows = []
    wide = decisions.pivot_table(index="candidate", columns="reviewer", values=by, aggfunc="last")
    for i, first in enumerate(reviewers):
        for second in reviewers[i + 1 :]:
            both = wide[[first, second]].dropna()
            a, b = both[first].astype(str).to_numpy(), both[second].astype(str).to_numpy()
            kappa = float("nan")
            if len(both) >= 2 and len(set(a) | set(b)) > 1:
                kappa = float(cohen_kappa_score(a, b))
            rows.append((first, second, len(both), int((a == b).sum()), kappa))
    return pd.DataFrame(rows, columns=columns).astype({"n_both": "int64", "agree": "int64"})


# ---------------------------------------------------------------------------------------------- checks

_MAX_TEXT = 200


def _check_text(name: str, value, *, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise InputError(f"{name} must be a non-empty string of at most {_MAX_TEXT} characters, got {value!r}",
                         parameter=name)  # fmt: skip
    return value.strip()


def _check_state(state) -> str:
    if state not in REVIEW_STATES:
        raise InputError(f"state must be one of {', '.join(REVIEW_STATES)}; got {state!r}", parameter="state")
    return state


def _check_category(category) -> str | None:
    return _check_text("category", category, allow_none=True) if category != "" else None


def _check_reviewer(reviewer) -> str:
    return _check_text("reviewer", reviewer)


def _check_request_id(request_id) -> str:
    return _check_text("request_id", request_id)


def _check_candidate(candidate) -> str:
    return _check_text("candidate", candidate)


def check_states(states: Iterable[str], name: str = "states") -> tuple[str, ...]:
    """``states`` as a tuple, each one of :data:`REVIEW_STATES`."""
    states = tuple(states)
    bad = [state for state in states if state not in REVIEW_STATES]
    if bad or not states:
        raise InputError(f"{name} must be among {', '.join(REVIEW_STATES)}; got {', '.join(bad) or 'none'}",
                         parameter=name)  # fmt: skip
    return states
