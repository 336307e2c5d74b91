"""Nothing acknowledged is lost: kill -9 mid-burst, retries, several reviewers and servers, agreement, bulk, undo.

The server is the real one (``python -m hardneg review`` in a subprocess, real HTTP); what it promised is
checked by reading ``review.sqlite`` with plain :mod:`sqlite3` and replaying the events by hand.
"""

from __future__ import annotations

import http.client
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from sklearn.metrics import cohen_kappa_score

from hardneg.mine import write_candidates, write_items
from hardneg.review import TOKEN_HEADER, ReviewSession, ReviewStore, create_app
from tests.helpers.synth import imu_channels, times, write_log
from tests.review._fixtures import ReviewServer as Server

STATES = ("negative", "positive", "unsure", "skip")
CATEGORIES = ("cones", "trucks", "signs")


# ----------------------------------------------------------------------------- a mined folder


def sensor_mined(root: Path, n_candidates: int = 300, n_items: int = 3, seed: int = 0) -> Path:
    """A mined folder of ``n_candidates`` 500 ms windows over ``n_items`` small 50 Hz CSV logs."""
    rng = np.random.default_rng(seed)
    pool = root / "pool"
    pool.mkdir(parents=True)
    per_item = -(-n_candidates // n_items)
    rows, items = [], []
    for k in range(n_items):
        name = f"rec{k}"
        n = per_item * 25 + 50
        write_log(pool / f"{name}.csv", times(n, 50.0), imu_channels(n, 50.0, rng, channels=["ax", "ay"]))
        starts = np.arange(per_item) * 500.0
        scores = rng.uniform(0.3, 1.0, per_item)
        rows += [(name, f"g{k % 2}", s, s + 500.0, float(p)) for s, p in zip(starts, scores, strict=True)]
        items.append((name, f"g{k % 2}", per_item, scores.max(), scores.mean(), scores.mean(), 0.0,
                      str(pool / f"{name}.csv")))  # fmt: skip
    candidates = pd.DataFrame(rows[:n_candidates], columns=["item", "group", "start_ms", "end_ms", "score"])
    table = pd.DataFrame(items, columns=["item", "group", "n_windows", "max_score", "mean_score", "topk_mean",
                                         "argmax_ms", "path"])  # fmt: skip
    mined = root / "mined"
    write_candidates(candidates, mined)
    write_items(table, mined)
    return mined


# ----------------------------------------------------------------------------- the real server


@pytest.fixture
def mined(tmp_path):
    return sensor_mined(tmp_path)


def keys_of(mined: Path) -> list[str]:
    session = ReviewSession.open(mined)
    try:
        return session.review.table["key"].tolist()
    finally:
        session.close()


# ----------------------------------------------------------------------------- reading the log independently


def log_events(mined: Path) -> pd.DataFrame:
    with sqlite3.connect(mined / "review.sqlite") as db:
        return pd.read_sql_query("SELECT * FROM events ORDER BY seq", db)


def replay(events: pd.DataFrame) -> dict[str, tuple]:
    """Brute force: walk the log in order; a decision pushes, an undo removes the event it names."""
    stacks: dict[str, list] = {}
    for event in events.itertuples(index=False):
        if event.kind == "decision":
            category = None if event.category is None or pd.isna(event.category) else event.category
            stacks.setdefault(event.candidate, []).append((event.seq, event.state, category, event.reviewer))
        else:
            stacks[event.candidate] = [entry for entry in stacks[event.candidate] if entry[0] != int(event.undoes)]
    return {candidate: stack[-1][1:] for candidate, stack in stacks.items() if stack}


# ----------------------------------------------------------------------------- kill -9 mid-burst


def test_kill_9_mid_burst_loses_no_acknowledged_decision(mined):
    keys = keys_of(mined)
    server = Server(mined, "--reviewer", "r", "--categories", ",".join(CATEGORIES))
    acknowledged: dict[str, tuple] = {}
    sent: dict[str, tuple] = {}
    lock = threading.Lock()
    half = threading.Event()

    def client(worker: int) -> None:
        rng = np.random.default_rng(worker)
        connection = server.connection()
        for n in range(250):
            request_id = f"w{worker}-{n}"
            body = {"candidate": int(rng.integers(len(keys))), "state": STATES[rng.integers(4)],
                    "category": CATEGORIES[rng.integers(3)], "request_id": request_id}  # fmt: skip
            if body["state"] != "negative":
                body["category"] = None
            with lock:
                sent[request_id] = body
            try:
                status, answer = server.post("/api/decisions", body, connection)
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server is gone: whatever was not answered was never promised
            assert status == 200, answer
            with lock:
                acknowledged[request_id] = body
                if len(acknowledged) >= 500:
                    half.set()

    workers = [threading.Thread(target=client, args=(worker,)) for worker in range(4)]
    for worker in workers:
        worker.start()
    assert half.wait(120), "fewer than 500 decisions acknowledged"
    server.kill()
    for worker in workers:
        worker.join(60)
    assert 500 <= len(acknowledged) < 1000, len(acknowledged)  # killed mid-burst, not after it

    events = log_events(mined)
    by_request = events.set_index("request_id")
    assert by_request.index.is_unique
    for request_id, body in acknowledged.items():
        event = by_request.loc[request_id]
        assert event["kind"] == "decision"
        assert event["candidate"] == keys[body["candidate"]]
        assert event["state"] == body["state"]
        assert (None if pd.isna(event["category"]) else event["category"]) == body["category"]
        assert event["reviewer"] == "r"
    # Anything else in the log was sent (committed, the answer lost with the process), never invented.
    assert set(events["request_id"]) <= set(sent)
    assert (events["seq"].diff().dropna() == 1).all()

    expected = replay(events)
    with ReviewStore(mined / "review.sqlite", reviewer="x") as store:
        assert store.current_map() == {key: (state, category, reviewer)
                                       for key, (state, category, reviewer) in expected.items()}  # fmt: skip
        current = store.current()
    assert current["candidate"].tolist() == sorted(expected)
    # And a brute force over the acknowledged requests alone agrees wherever nothing unacknowledged came later.
    last_sent = {}
    for request_id in events["request_id"]:
        body = sent[request_id]
        last_sent[keys[body["candidate"]]] = (body["state"], body["category"], "r")
    assert expected == last_sent

    # A retry of an acknowledged request after a restart records nothing new and answers as the first time.
    restarted = Server(mined, "--reviewer", "r", "--categories", ",".join(CATEGORIES))
    try:
        request_id, body = next(iter(acknowledged.items()))
        status, answer = restarted.post("/api/decisions", body)
        assert status == 200 and answer["replayed"] is True
        assert answer["seq"] == int(by_request.loc[request_id, "seq"])
        assert len(log_events(mined)) == len(events)
    finally:
        restarted.stop()


# ----------------------------------------------------------------------------- retries and several writers


def test_a_retried_request_id_records_one_event(mined):
    session = ReviewSession.open(mined, categories=CATEGORIES, reviewer="r")
    client = TestClient(create_app(session, token="t"))
    body = {"candidate": 3, "state": "negative", "category": "cones", "request_id": "same"}
    first = client.post("/api/decisions", json=body, headers={TOKEN_HEADER: "t"})
    again = client.post("/api/decisions", json=body, headers={TOKEN_HEADER: "t"})
    # The same id with another body is still the same request: the first answer, nothing written.
    changed = client.post("/api/decisions", json={**body, "state": "positive", "category": None},
                          headers={TOKEN_HEADER: "t"})  # fmt: skip
    assert [r.status_code for r in (first, again, changed)] == [200, 200, 200]
    assert first.json()["replayed"] is False and again.json()["replayed"] is True
    assert again.json()["seq"] == first.json()["seq"] == changed.json()["seq"]
    session.close()
    events = log_events(mined)
    assert events["request_id"].tolist() == ["same"]
    assert replay(events) == {keys_of(mined)[3]: ("negative", "cones", "r")}


def test_two_servers_and_four_reviewers_at_once_lose_no_update(mined):
    """Two server processes on one folder, two reviewers each (the body's reviewer), all writing at once."""
    keys = keys_of(mined)
    servers = [Server(mined, "--reviewer", "a"), Server(mined, "--reviewer", "b")]
    plan = {reviewer: np.random.default_rng(k).choice(len(keys), 60, replace=False)
            for k, reviewer in enumerate(["ana", "ben", "cy", "dee"])}  # fmt: skip
    failures = []

    def client(reviewer, server):
        connection = server.connection()
        for n, candidate in enumerate(plan[reviewer]):
            body = {"candidate": int(candidate), "state": STATES[(n + len(reviewer)) % 4],
                    "request_id": f"{reviewer}-{n}", "reviewer": reviewer}  # fmt: skip
            status, answer = server.post("/api/decisions", body, connection)
            if status != 200:
                failures.append(answer)

    try:
        threads = [threading.Thread(target=client, args=(reviewer, servers[k % 2]))
                   for k, reviewer in enumerate(plan)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for server in servers:
            server.stop()
    assert not failures
    events = log_events(mined)
    assert len(events) == 4 * 60 and events["seq"].is_unique
    for reviewer, candidates in plan.items():
        mine = events[events["reviewer"] == reviewer]
        assert mine["candidate"].tolist() == [keys[c] for c in candidates]  # all there, in the order sent
        assert mine["state"].tolist() == [STATES[(n + len(reviewer)) % 4] for n in range(60)]


def test_agreement_kappa_is_scikit_learns(mined):
    session = ReviewSession.open(mined, reviewer="ana")
    client = TestClient(create_app(session, token="t"))
    rng = np.random.default_rng(7)
    ana = rng.choice(STATES, 50)
    ben = np.where(rng.random(50) < 0.6, ana, rng.choice(STATES, 50))  # mostly agreeing, not always
    for reviewer, states in (("ana", ana), ("ben", ben)):
        for candidate, state in enumerate(states):
            body = {"candidate": candidate, "state": str(state), "request_id": f"{reviewer}{candidate}",
                    "reviewer": reviewer}  # fmt: skip
            assert client.post("/api/decisions", json=body, headers={TOKEN_HEADER: "t"}).status_code == 200
    # a third reviewer on a few other candidates only: no shared candidate with ana, ben on these
    client.post("/api/decisions", json={"candidate": 100, "state": "skip", "request_id": "cy",
                                        "reviewer": "cy"}, headers={TOKEN_HEADER: "t"})  # fmt: skip
    agreement = client.get("/api/stats").json()["agreement"]
    session.close()
    pair = [row for row in agreement if (row["reviewer_a"], row["reviewer_b"]) == ("ana", "ben")]
    assert len(pair) == 1
    assert pair[0]["n_both"] == 50 and pair[0]["agree"] == int((ana == ben).sum())
    assert pair[0]["kappa"] == pytest.approx(cohen_kappa_score(ana, ben), abs=1e-12)
    others = [row for row in agreement if "cy" in (row["reviewer_a"], row["reviewer_b"])]
    assert others and all(row["n_both"] == 0 and row["kappa"] is None for row in others)


# ----------------------------------------------------------------------------- bulk and undo


def test_bulk_with_a_stale_count_is_refused_and_writes_nothing(mined):
    session = ReviewSession.open(mined, categories=CATEGORIES, reviewer="r")
    client = TestClient(create_app(session, token="t"))
    filters = {"min_score": 0.8}
    shown = client.get("/api/candidates", params=filters).json()["total"]
    assert 0 < shown < 300
    # someone decides one of them meanwhile; the page's count (unreviewed ones) is now stale
    client.post("/api/decisions", json={"candidate": 0, "state": "skip", "request_id": "meanwhile"},
                headers={TOKEN_HEADER: "t"})  # fmt: skip
    before = log_events(mined)
    stale = {"filters": {**filters, "state": "unreviewed"}, "expected": shown, "state": "negative",
             "category": "cones", "request_id": "bulk-stale"}  # fmt: skip
    answer = client.post("/api/bulk", json=stale, headers={TOKEN_HEADER: "t"})
    assert answer.status_code == 409, answer.text
    for expected in (None, shown + 1, 0):
        body = {**stale, "request_id": f"bulk-{expected}", "expected": expected}
        assert client.post("/api/bulk", json=body, headers={TOKEN_HEADER: "t"}).status_code == 409
    session.close()
    after = log_events(mined)
    assert after.equals(before)
    with sqlite3.connect(mined / "review.sqlite") as db:
        assert not db.execute("SELECT 1 FROM requests WHERE request_id LIKE 'bulk-%'").fetchall()


def test_undo_after_a_bulk_takes_the_whole_bulk_back(mined):
    session = ReviewSession.open(mined, categories=CATEGORIES, reviewer="r")
    client = TestClient(create_app(session, token="t"))
    keys = session.review.table["key"].tolist()
    headers = {TOKEN_HEADER: "t"}
    for candidate, state in ((0, "positive"), (5, "unsure"), (299, "skip")):
        client.post("/api/decisions", json={"candidate": candidate, "state": state, "request_id": f"d{candidate}"},
                    headers=headers)  # fmt: skip
    before = replay(log_events(mined))
    filters = {"min_score": 0.6}
    ids = client.get("/api/candidates", params=filters).json()["ids"]
    answer = client.post("/api/bulk", json={"filters": filters, "expected": len(ids), "state": "negative",
                                            "category": "signs", "request_id": "bulk"}, headers=headers)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["count"] == len(ids)
    bulked = replay(log_events(mined))
    assert all(bulked[keys[i]] == ("negative", "signs", "r") for i in ids)
    undone = client.post("/api/undo", json={"request_id": "u1"}, headers=headers)
    assert undone.status_code == 200
    assert sorted(undone.json()["undone"]) == sorted(keys[i] for i in ids)
    assert {c["id"] for c in undone.json()["candidates"]} == set(ids)
    events = log_events(mined)
    assert replay(events) == before  # the decisions before the bulk show again
    assert (events["kind"] == "undo").sum() == len(ids)
    assert session.store.current_map() == before
    # the next undo takes back the latest single decision, not more of the bulk
    assert client.post("/api/undo", json={"request_id": "u2"}, headers=headers).json()["undone"] == [keys[299]]
    session.close()
