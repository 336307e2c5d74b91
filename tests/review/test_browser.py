"""The page in headless Chromium: review with the keyboard, undo, bulk-assign a score band, export YOLO.

Needs Debian's ``chromium`` (``apt-get install chromium``; the README says so and CI installs it) and
Playwright (a test dependency); Playwright drives the system browser, nothing is downloaded.
"""

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

playwright = pytest.importorskip("playwright.sync_api", reason="the browser test needs pip install playwright")
CHROMIUM = os.environ.get("HARDNEG_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed: apt-get install chromium"),
]

from tests.review._fixtures import ReviewServer, audio_mined, video_mined


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def wait_saved(page):
    page.wait_for_function("document.getElementById('save-state').textContent === 'all saved'", timeout=15000)


def api(page, path):
    return page.evaluate(f"fetch('{path}').then(r => r.json())")


def test_review_a_mined_video_pool_with_the_keyboard_and_export_yolo(tmp_path, browser):
    mined = video_mined(tmp_path)
    server = ReviewServer(mined, "--categories", "cones,signs", "--reviewer", "tester")
    try:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']")
        total = api(page, "/api/stats")["total"]
        assert total == 40 and page.locator(".card").count() == 40
        page.keyboard.press("g")  # one at a time: the frame with the frames before and after
        page.wait_for_selector("#main-image")
        page.wait_for_function("document.getElementById('main-image').naturalWidth > 0")
        assert page.locator(".frames img").count() == 3
        keys = ["1", "n", "n", "p", "u", "s", "n", "2", "n", "n"]
        for key in keys:
            page.keyboard.press(key)
        wait_saved(page)
        page.keyboard.press("z")  # the tenth back
        wait_saved(page)
        ids = api(page, "/api/candidates?limit=10")["ids"][:10]
        decided = {c["id"]: (c["state"], c["category"]) for c in api(page, "/api/candidates?limit=10")["candidates"]}
        expected = ["negative/cones", "negative", "negative", "positive", "unsure", "skip", "negative",
                    "negative/signs", "negative", None]
        got = [None if decided[i][0] is None else "/".join(x for x in decided[i] if x) for i in ids]
        assert got == expected
        events = sqlite3.connect(mined / "review.sqlite").execute("SELECT kind FROM events").fetchall()
        assert [kind for (kind,) in events] == ["decision"] * 10 + ["undo"]

        # bulk: a score band of the unreviewed, marked confirmed negatives after the confirmation
        page.keyboard.press("g")
        page.select_option("#f-state", "unreviewed")
        page.fill("#f-min", "0.3")
        page.fill("#f-max", "0.6")
        page.click("#apply")
        page.wait_for_function("document.getElementById('match-count').textContent.includes('shown')")
        band = api(page, "/api/candidates?state=unreviewed&min_score=0.3&max_score=0.6&limit=0")["total"]
        assert band > 0
        page.select_option("#bulk-state", "negative")
        page.click("#bulk-assign")
        page.wait_for_selector("#confirm:not([hidden])")
        assert f"all {band} candidates" in page.inner_text("#confirm-text")
        page.click("#confirm-yes")
        wait_saved(page)
        stats = api(page, "/api/stats")
        assert stats["by_state"]["negative"] == 6 + band and stats["reviewed"] == 9 + band
        page.close()
    finally:
        server.stop()

    out = tmp_path / "yolo"
    done = subprocess.run([sys.executable, "-m", "hardneg", "export", str(mined), "--format", "yolo", "--out", str(out)],  # noqa: PLW1510
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    images = sorted(p.stem for p in (out / "images").glob("*.jpg"))
    labels = sorted(p.stem for p in (out / "labels").glob("*.txt"))
    assert len(images) == 6 + band and images == labels
    assert all((out / "labels" / f"{name}.txt").read_bytes() == b"" for name in labels)
    assert (out / "data.yaml").is_file()


def test_audio_candidates_play_with_context_and_are_reviewed_the_same_way(tmp_path, browser):
    mined = audio_mined(tmp_path)
    server = ReviewServer(mined, "--reviewer", "tester")
    ranges = []
    try:
        page = browser.new_page()
        page.on("response", lambda r: ranges.append((r.status, r.request.headers.get("range")))
                if r.url.endswith(".wav") else None)
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']")
        first = api(page, "/api/candidates?limit=1")["candidates"][0]
        assert first["kind"] == "audio"
        context = first["context"]
        assert context["start_ms"] < first["start_ms"] and first["end_ms"] < context["end_ms"]  # seconds around it
        page.keyboard.press("g")
        page.wait_for_selector("#player")
        page.wait_for_function("document.querySelector('.spectro img').naturalWidth > 0")
        page.wait_for_function("document.getElementById('player').readyState >= 1")
        duration = page.evaluate("document.getElementById('player').duration")
        assert duration == pytest.approx((context["end_ms"] - context["start_ms"]) / 1000, abs=0.01)
        page.keyboard.press(" ")
        page.wait_for_function("document.getElementById('player').currentTime > 0.05", timeout=10000)
        page.keyboard.press(" ")
        assert page.evaluate("document.getElementById('player').paused")
        # the browser fetched the clip by byte ranges: the server answered 206, never a whole recording
        assert any(status == 206 and header and header.startswith("bytes=") for status, header in ranges), ranges
        total = api(page, "/api/stats")["total"]
        for key in ["n", "u", "p"][: min(3, total)]:
            page.keyboard.press(key)
        wait_saved(page)
        stats = api(page, "/api/stats")
        assert stats["reviewed"] == min(3, total)
        page.close()
    finally:
        server.stop()


def test_the_demos_mined_sensor_windows_open_with_a_panel_per_channel_group(tmp_path, browser):
    from hardneg.demo import run_demo

    demo = run_demo(tmp_path / "demo", seed=0, mine=True)
    mined = demo.root / "mined"
    server = ReviewServer(mined, "--categories", "aiming,walking,other", "--reviewer", "tester")
    try:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']")
        page.keyboard.press("g")
        page.wait_for_selector("canvas.signal")
        first = api(page, "/api/candidates?limit=1")["candidates"][0]
        signal = page.evaluate(f"fetch('{first['media']['signal']}').then(r => r.json())")
        assert len(signal["groups"]) >= 1 and sum(len(g["channels"]) for g in signal["groups"]) == len(signal["channels"])
        # the canvas has been drawn on (not blank)
        page.wait_for_function(
            "(() => { const c = document.querySelector('canvas.signal'); const d = c.getContext('2d')"
            ".getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true;"
            " return false; })()")
        for key in ["1", "2", "n", "z"]:
            page.keyboard.press(key)
        wait_saved(page)
        stats = api(page, "/api/stats")
        assert stats["reviewed"] == 2 and stats["by_category"]["aiming"] == 1 and stats["by_category"]["walking"] == 1
        page.close()
    finally:
        server.stop()
