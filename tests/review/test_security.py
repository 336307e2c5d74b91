"""What the review page must refuse: writes without the session token, files outside what it registered,
listening beyond this machine without saying so; and the CLI's refusals.

``/snapshots/`` answers only the media the session registered (``ReviewMedia.resolve(relpath) -> Path | None``):
every other path, however spelled, and a registered one whose file became a symlink leading out, is a 404.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
Image = pytest.importorskip("PIL.Image")

from fastapi.testclient import TestClient

from hardneg.mine import write_candidates, write_items
from hardneg.review import TOKEN_HEADER, ReviewSession, create_app
from tests.helpers.cli import assert_refused, run_hardneg
from tests.review._fixtures import ReviewServer as Server
from tests.review._fixtures import free_port
from tests.review.test_durability import log_events, sensor_mined

SECRET = "secret-outside-the-mined-folder"
TRAVERSALS = [
    "/snapshots/../candidates.parquet",
    "/snapshots/%2e%2e/candidates.parquet",
    "/snapshots/%2E%2E/candidates.parquet",
    "/snapshots/..%2fcandidates.parquet",
    "/snapshots/..%2Fcandidates.parquet",
    "/snapshots/snapshots/../../candidates.parquet",
    "/snapshots//etc/passwd",
    "/snapshots///etc/passwd",
    "/snapshots/%2fetc%2fpasswd",
    "/snapshots/review_media/../review.sqlite",
    "/snapshots/review_media/..%2freview.sqlite",
    "/snapshots/candidates.parquet",  # exists in the mined folder, never registered
    "/snapshots/items.parquet",
    "/snapshots/review.sqlite",
    "/snapshots/",
]


def image_mined(root: Path, n: int = 12) -> Path:
    """A mined folder of image candidates (a folder of frames) with a JPEG snapshot each, as --snapshots writes."""
    pool = root / "frames"
    pool.mkdir(parents=True)
    mined = root / "mined"
    (mined / "snapshots" / "cam").mkdir(parents=True)
    rows = []
    for frame in range(n):
        colour = (frame * 20 % 256, 80, 160)
        Image.new("RGB", (32, 24), colour).save(pool / f"f{frame:04d}.jpg")
        snapshot = f"snapshots/cam/cam_f{frame}.jpg"
        Image.new("RGB", (32, 24), colour).save(mined / snapshot)
        rows.append(("cam", "g", frame * 100.0, frame * 100.0 + 100.0, 0.9 - frame / 100, frame, snapshot))
    candidates = pd.DataFrame(rows, columns=["item", "group", "start_ms", "end_ms", "score", "frame", "snapshot"])
    items = pd.DataFrame({"item": ["cam"], "group": ["g"], "n_windows": [n], "max_score": [0.9], "mean_score": [0.8],
                          "topk_mean": [0.85], "argmax_ms": [0.0], "path": [str(pool)]})  # fmt: skip
    write_candidates(candidates, mined)
    write_items(items, mined)
    return mined


@pytest.fixture(params=["image", "sensor"])
def mined(request, tmp_path):
    (tmp_path / "secret.txt").write_text(SECRET)
    return image_mined(tmp_path) if request.param == "image" else sensor_mined(tmp_path, n_candidates=30)


@pytest.fixture
def client(mined):
    session = ReviewSession.open(mined, categories=["cones"], reviewer="r")
    with TestClient(create_app(session, token="t")) as test_client:
        yield test_client
    session.close()


def raw_get(app, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (HTTP clients remove ``..`` segments; a hostile one need not)."""
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(path), "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body


def registered(client) -> list[str]:
    urls = [url for c in client.get("/api/candidates").json()["candidates"] for url in c["media"].values()]
    assert urls, "the session registered no media"
    return urls


# ----------------------------------------------------------------------------- the token


WRITES = [
    ("/api/decisions", {"candidate": 0, "state": "negative", "category": "cones", "request_id": "x1"}),
    ("/api/bulk", {"filters": {}, "expected": None, "state": "negative", "request_id": "x2"}),
    ("/api/undo", {"request_id": "x3"}),
]


@pytest.mark.parametrize("headers", [{}, {TOKEN_HEADER: ""}, {TOKEN_HEADER: "T"}, {TOKEN_HEADER: "t "},
                                     {TOKEN_HEADER: "tt"}, {"X-Other-Token": "t"}], ids=str)  # fmt: skip
@pytest.mark.parametrize(("path", "body"), WRITES, ids=[path for path, _ in WRITES])
def test_a_write_without_the_token_is_refused_and_writes_nothing(client, mined, path, body, headers):
    if path == "/api/bulk":
        body = {**body, "expected": client.get("/api/candidates").json()["total"]}
    client.post("/api/decisions", json={"candidate": 1, "state": "skip", "request_id": "before"},
                headers={TOKEN_HEADER: "t"})  # fmt: skip
    before = log_events(mined)
    answer = client.post(path, json=body, headers=headers)
    query = client.post(f"{path}?token=t&{TOKEN_HEADER}=t", json=body, headers=headers)  # not from the URL either
    assert (answer.status_code, query.status_code) == (403, 403), answer.text
    assert log_events(mined).equals(before)
    # the same request with the token is written: the refusal was the token's
    assert client.post(path, json=body, headers={TOKEN_HEADER: "t"}).status_code == 200
    assert len(log_events(mined)) > len(before) or path == "/api/undo"


def test_reads_need_no_token_and_write_nothing(client, mined):
    for path in ("/", "/api/config", "/api/candidates", "/api/stats", "/api/candidates/0"):
        assert client.get(path).status_code == 200, path
    assert log_events(mined).empty


# ----------------------------------------------------------------------------- files


def test_registered_media_are_served(client):
    for url in registered(client):
        answer = client.get(url)
        if answer.status_code == 404 and url.endswith("/after.jpg"):  # the last frame has none; the reason says so
            assert "frame" in answer.json()["detail"], answer.text
            continue
        assert answer.status_code == 200, url
        assert SECRET.encode() not in answer.content


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_outside_the_registered_media_are_404(client, mined, path):
    status, body = raw_get(client.app, path)
    assert status == 404, (path, body[:200])
    assert not body.startswith(b"PAR1") and b"SQLite" not in body and b"root:" not in body
    assert client.get(path).status_code == 404  # as an HTTP client sends it (dots resolved)


def test_a_registered_file_replaced_by_a_symlink_out_is_404(client, mined):
    url = registered(client)[0]
    assert client.get(url).status_code == 200  # made, where the media are made on demand
    file = mined / unquote(urlsplit(url).path.removeprefix("/snapshots/"))
    assert file.is_file(), f"{url} is not served from {file}; adapt this test to where the media live"
    file.unlink()
    file.symlink_to(mined.parent / "secret.txt")
    answer = client.get(url)
    assert SECRET.encode() not in answer.content
    assert answer.status_code == 404


def test_a_registered_folder_replaced_by_a_symlink_out_is_404(client, mined):
    url = registered(client)[0]
    assert client.get(url).status_code == 200
    file = mined / unquote(urlsplit(url).path.removeprefix("/snapshots/"))
    outside = mined.parent / "elsewhere"
    outside.mkdir()
    (outside / file.name).write_text(SECRET)
    folder = file.parent
    folder.rename(mined.parent / "moved")
    folder.symlink_to(outside, target_is_directory=True)
    answer = client.get(url)
    assert SECRET.encode() not in answer.content
    assert answer.status_code == 404


def test_the_real_server_refuses_the_same_paths(mined):
    """uvicorn in front: the raw request line reaches the app as sent."""
    server = Server(mined, "--reviewer", "r")
    try:
        for path in TRAVERSALS:
            status, body = server.request("GET", path)
            assert status in (404, 400), (path, status)
            assert SECRET not in body
        status, _ = server.request("POST", "/api/decisions", {"candidate": 0, "state": "skip", "request_id": "a"},
                                   token="not-the-token")  # fmt: skip
        assert status == 403
    finally:
        server.stop()
    assert log_events(mined).empty


# ----------------------------------------------------------------------------- the page


def test_the_page_carries_its_token_and_loads_nothing_from_outside(client):
    html = client.get("/").text
    assert '<meta name="hardneg-token" content="t">' in html
    assert not re.search(r"<script[^>]*\bsrc=[\"']?(https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"\b(src|href)=[\"']?(https?:)?//", html, re.IGNORECASE)
    for name in ("review.js", "review.css"):
        static = client.get(f"/static/{name}").text
        assert not re.search(r"(import|url\(|fetch\()\s*[\"']?(https?:)?//", static), name


# ----------------------------------------------------------------------------- the command line


def test_listening_beyond_this_machine_warns(tmp_path):
    mined = sensor_mined(tmp_path, n_candidates=20)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "hardneg", "review", str(mined), "--host", "0.0.0.0",
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and not line.startswith("warning:"):
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
    finally:
        process.kill()
        process.wait(10)
        process.stderr.close()
    assert line.startswith("warning:") and "0.0.0.0" in line, line


def test_a_busy_port_is_one_error_line(tmp_path):
    mined = sensor_mined(tmp_path, n_candidates=20)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert_refused(run_hardneg("review", mined, "--port", port), str(port), "--port")
    assert not (mined / "review.sqlite").exists()


@pytest.mark.parametrize("what", ["empty", "missing", "a file"])
def test_a_folder_that_is_not_mined_is_one_error_line(tmp_path, what):
    folder = tmp_path / "folder"
    if what == "empty":
        folder.mkdir()
    elif what == "a file":
        folder.write_text("x")
    assert_refused(run_hardneg("review", folder, "--port", free_port()), str(folder))
    assert not (folder / "review.sqlite").exists() or what != "empty"


def test_not_a_review_database_is_one_error_line(tmp_path):
    mined = sensor_mined(tmp_path, n_candidates=20)
    (mined / "review.sqlite").write_bytes(np.random.default_rng(0).bytes(4096))
    assert_refused(run_hardneg("review", mined, "--port", free_port()), "review.sqlite")
