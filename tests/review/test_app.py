"""The review API with FastAPI's TestClient: what the page and scripts rely on."""

import re

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the review page needs pip install 'hardneg[review]'")
from fastapi.testclient import TestClient

from hardneg.review import ReviewSession, ReviewStore, create_app
from tests.review._fixtures import sensor_mined

TOKEN = "test-token"
HEADERS = {"X-Hardneg-Token": TOKEN}


@pytest.fixture
def mined(tmp_path):
    return sensor_mined(tmp_path, n_items=3, per_item=10)


@pytest.fixture
def client(mined):
    session = ReviewSession.open(mined, categories=["cones", "signs"], reviewer="ana")
    with TestClient(create_app(session, token=TOKEN)) as client:
        yield client
    session.close()


def test_the_page_carries_the_token_and_loads_nothing_from_outside(client):
    page = client.get("/")
    assert page.status_code == 200
    assert re.search(r'<meta name="hardneg-token" content="test-token">', page.text)
    assert "http://" not in page.text and "https://" not in page.text
    for name in ("review.js", "review.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and len(asset.content) > 1000
        assert "https://" not in asset.text
    assert client.get("/static/page.html").status_code == 404


def test_candidates_answer_with_the_interface_fields_best_first(client, mined):
    answer = client.get("/api/candidates", params={"limit": 5}).json()
    assert answer["total"] == 30 and len(answer["ids"]) == 30 and len(answer["candidates"]) == 5
    first = answer["candidates"][0]
    for field in ("id", "item", "start_ms", "score", "state", "category", "snapshot"):
        assert field in first
    scores = [c["score"] for c in answer["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert first["state"] is None and all(url.startswith("/snapshots/") for url in first["snapshot"])
    page = client.get("/api/candidates", params={"offset": 5, "limit": 5}).json()
    assert [c["id"] for c in page["candidates"]] == answer["ids"][5:10]


def test_filters_in_the_query_select_like_the_library(client, mined):
    low = client.get("/api/candidates", params={"min_score": 0.5, "max_score": 0.8, "item": "rec1"}).json()
    session = ReviewSession.open(mined)
    table = session.review.table
    expected = table[(table.score >= 0.5) & (table.score <= 0.8) & (table.item == "rec1")]["id"].tolist()
    assert low["ids"] == expected
    session.close()


def test_a_decision_is_committed_before_the_answer_and_a_retry_writes_nothing(client, mined):
    body = {"candidate": 3, "state": "negative", "category": "cones", "request_id": "req-1"}
    first = client.post("/api/decisions", json=body, headers=HEADERS)
    assert first.status_code == 200 and first.json()["progress"] == {"reviewed": 1, "total": 30}
    # another connection to the file sees it at once: committed, not buffered
    key = client.get("/api/candidates/3").json()["key"]
    assert ReviewStore(mined / "review.sqlite").current_map() == {key: ("negative", "cones", "ana")}
    again = client.post("/api/decisions", json=body, headers=HEADERS).json()
    assert again["replayed"] and again["seq"] == first.json()["seq"]
    assert len(ReviewStore(mined / "review.sqlite").events()) == 1


def test_state_filters_follow_decisions_and_undo(client):
    for i, state in enumerate(["negative", "positive", "unsure"]):
        client.post("/api/decisions", json={"candidate": i, "state": state, "request_id": f"d{i}"}, headers=HEADERS)
    reviewed = client.get("/api/candidates", params={"state": "unreviewed"}).json()
    assert reviewed["total"] == 27 and set(reviewed["ids"]).isdisjoint({0, 1, 2})
    undone = client.post("/api/undo", json={"request_id": "z1"}, headers=HEADERS).json()
    assert [c["id"] for c in undone["candidates"]] == [2] and undone["candidates"][0]["state"] is None
    assert client.get("/api/candidates", params={"state": "unsure"}).json()["total"] == 0
    stats = client.get("/api/stats").json()
    assert stats["reviewed"] == 2 and stats["by_state"] == {"negative": 1, "positive": 1, "unsure": 0, "skip": 0}


def test_bulk_assignment_needs_the_confirmed_count(client):
    filters = {"min_score": 0.6}
    shown = client.get("/api/candidates", params={**filters, "limit": 0}).json()["total"]
    wrong = client.post("/api/bulk", json={"filters": filters, "state": "negative", "category": "signs",
                                            "expected": shown + 1, "request_id": "b0"}, headers=HEADERS)
    assert wrong.status_code == 409 and "look again" in wrong.json()["detail"]
    assert client.get("/api/stats").json()["reviewed"] == 0
    done = client.post("/api/bulk", json={"filters": filters, "state": "negative", "category": "signs",
                                           "expected": shown, "request_id": "b1"}, headers=HEADERS).json()
    assert done["count"] == shown
    stats = client.get("/api/stats").json()
    assert stats["by_category"]["signs"] == shown
    undone = client.post("/api/undo", json={"request_id": "b2"}, headers=HEADERS).json()
    assert len(undone["undone"]) == shown
    assert client.get("/api/stats").json()["reviewed"] == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"candidate": 999, "state": "negative", "request_id": "x"}, "candidate must be an id in 0..29"),
        ({"candidate": "abc", "state": "negative", "request_id": "x"}, "candidate must be a candidate id"),
        ({"candidate": 1, "state": "nope", "request_id": "x"}, "state must be one of"),
        ({"candidate": 1, "state": "negative", "category": "trucks", "request_id": "x"}, "--categories"),
        ({"candidate": 1, "state": "negative"}, "request_id must be"),
    ],
)
def test_bad_decisions_are_422_with_a_message_and_write_nothing(client, mined, body, fragment):
    answer = client.post("/api/decisions", json=body, headers=HEADERS)
    assert answer.status_code == 422 and fragment in answer.json()["detail"]
    assert client.get("/api/stats").json()["reviewed"] == 0


def test_stats_count_like_a_loop_and_show_the_mining_histogram(client, mined):
    rng = np.random.default_rng(0)
    chosen = rng.choice(30, 12, replace=False)
    states = rng.choice(["negative", "positive", "unsure", "skip"], 12)
    for i, (candidate, state) in enumerate(zip(chosen, states)):
        category = "cones" if state == "negative" and i % 2 else None
        client.post("/api/decisions", json={"candidate": int(candidate), "state": state, "category": category,
                                            "request_id": f"s{i}"}, headers=HEADERS)
    stats = client.get("/api/stats").json()
    assert stats["total"] == 30 and stats["reviewed"] == 12
    assert stats["by_state"] == {s: int((states == s).sum()) for s in ["negative", "positive", "unsure", "skip"]}
    hist = stats["score_histogram"]
    assert sum(hist["all"]) == 30 and sum(sum(hist[s]) for s in stats["by_state"]) == 12
    assert stats["by_reviewer"] == {"ana": 12} and stats["agreement"] == []


def test_two_reviewers_get_an_agreement_row(client):
    from sklearn.metrics import cohen_kappa_score

    ana = ["negative", "negative", "positive", "unsure", "negative", "skip"]
    ben = ["negative", "positive", "positive", "unsure", "negative", "negative"]
    for i, (a, b) in enumerate(zip(ana, ben)):
        client.post("/api/decisions", json={"candidate": i, "state": a, "request_id": f"a{i}"}, headers=HEADERS)
        client.post("/api/decisions", json={"candidate": i, "state": b, "reviewer": "ben", "request_id": f"b{i}"},
                    headers=HEADERS)
    row = client.get("/api/stats").json()["agreement"][0]
    assert (row["reviewer_a"], row["reviewer_b"], row["n_both"], row["agree"]) == ("ana", "ben", 6, 4)
    assert row["kappa"] == pytest.approx(cohen_kappa_score(ana, ben))


def test_a_sensor_candidate_serves_its_signal(client, mined):
    import pandas as pd

    candidate = client.get("/api/candidates", params={"limit": 1}).json()["candidates"][0]
    signal = client.get(candidate["media"]["signal"])
    assert signal.status_code == 200
    data = signal.json()
    log = pd.read_parquet(next((mined.parent / "pool").glob(f"{candidate['item']}.parquet")))
    start, end = data["context"]
    inside = log[(log.t_ms >= start) & (log.t_ms <= end)]
    assert start <= candidate["start_ms"] and candidate["end_ms"] <= end
    assert data["values"][data["channels"].index("acc_y")][:5] == pytest.approx(inside["acc_y"].to_numpy()[:5])


def test_decisions_on_windows_the_folder_no_longer_has_do_not_count(mined):
    """Mined again with fewer candidates: the log keeps every decision, progress counts only this folder's."""
    with ReviewStore(mined / "review.sqlite", reviewer="ana") as store:
        store.decide("rec0@123456", "negative", request_id="gone")  # a window an earlier mining run had
    session = ReviewSession.open(mined, reviewer="ana")
    with TestClient(create_app(session, token=TOKEN)) as client:
        assert client.get("/api/stats").json()["reviewed"] == 0
        answer = client.post("/api/decisions", json={"candidate": 0, "state": "skip", "request_id": "here"},
                             headers=HEADERS).json()
        assert answer["progress"] == {"reviewed": 1, "total": 30}
        assert client.get("/api/stats").json()["by_reviewer"] == {"ana": 1}
    session.close()
