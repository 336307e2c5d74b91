#!/usr/bin/env python3
"""Benchmark ``hardneg review`` on 20,000 image candidates: the page's first render and the decision round trip.

A synthetic mined folder of ``--n`` image candidates (``--items`` folders of small JPEG frames, a snapshot
JPEG per candidate, as ``hardneg mine --snapshots`` writes them; the bytes of a few tiny JPEGs are encoded once
and copied) is served by the real command, ``python -m hardneg review`` (uvicorn, real HTTP), and measured:

(a) first render: headless Chromium (Playwright) opens the page in a fresh context (empty cache) ``--loads``
    times; the figure is the time from navigation start to ``document.body.dataset.ready = "1"``, which the
    page sets once the grid's first cards are drawn (a card is checked to be there). Also the HTTP time of
    what that load asks for: ``GET /``, ``GET /api/candidates?limit=200``, ``GET /api/stats``.
(b) decision round trip: ``--decisions`` sequential ``POST /api/decisions`` over one keep-alive connection
    (each committed to ``review.sqlite`` before the answer), p50/p95/p99; then the same number from 4 concurrent
    clients, a connection each.

Baseline in the same run: a bare FastAPI app under uvicorn (same settings, a plain ``def`` route run in the
thread pool like the decision route) answering ``GET /hello`` and echoing ``POST /echo``, timed the same way;
a page of that app that sets ``ready`` at once, loaded the same way; and ``GET /api/config`` of the
review server. Ratios are against the bare app.

Targets: first render < 1 s; decision p95 < 50 ms.

Run it with the project's virtual environment::

    .venv/bin/python benchmarks/review_scale.py              # 20,000 candidates
    .venv/bin/python benchmarks/review_scale.py --n 2000     # quick try
    .venv/bin/python benchmarks/review_scale.py --record     # append to RESULTS.md
    .venv/bin/python benchmarks/review_scale.py --profile    # cProfile of the session's methods, no server
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import append_results, git_commit, measure_table, package_versions

FIRST_RENDER_TARGET_S = 1.0
P95_TARGET_MS = 50.0
CATEGORIES = "trucks,cones,signs,weather,other"
STATES = ("negative", "positive", "unsure", "skip")

BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
@app.get("/hello")
def hello():
    return {"ok": True}
@app.get("/page", response_class=HTMLResponse)
def page():
    return '<!doctype html><html><body><div class="card">x</div><script>document.body.dataset.ready = "1";</script></body></html>'
@app.post("/echo")
def echo(request: Request, body: dict):
    return {**body, "seq": 1}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


# ----------------------------------------------------------------------------- the mined folder


def make_mined(root: Path, n: int, n_items: int, seed: int = 0) -> Path:
    """``n`` image candidates over ``n_items`` frame folders, each with its snapshot JPEG."""
    from PIL import Image

    from hardneg.mine import write_candidates, write_items

    rng = np.random.default_rng(seed)
    jpegs = []
    for colour in range(8):
        buffer = io.BytesIO()
        Image.new("RGB", (160, 90), (colour * 30, 120, 200 - colour * 20)).save(buffer, "JPEG", quality=80)
        jpegs.append(buffer.getvalue())
    mined = root / "mined"
    rows, items = [], []
    per_item = -(-n // n_items)
    for k in range(n_items):
        name = f"seq{k:03d}"
        pool = root / "frames" / name
        snapshots = mined / "snapshots" / name
        pool.mkdir(parents=True)
        snapshots.mkdir(parents=True)
        count = min(per_item, n - k * per_item)
        scores = np.round(rng.beta(2.0, 2.0, count), 4)
        for frame in range(count):
            data = jpegs[frame % len(jpegs)]
            (pool / f"{frame:06d}.jpg").write_bytes(data)
            (snapshots / f"{name}_f{frame}.jpg").write_bytes(data)
            rows.append((name, f"site{k % 5}", float(frame), float(frame), float(scores[frame]), frame,
                         f"snapshots/{name}/{name}_f{frame}.jpg"))  # fmt: skip
        items.append((name, f"site{k % 5}", count, scores.max(), scores.mean(), scores.mean(), float(scores.argmax()),
                      str(pool)))  # fmt: skip
    columns = ["item", "group", "start_ms", "end_ms", "score", "frame", "snapshot"]
    write_candidates(pd.DataFrame(rows, columns=columns), mined)
    item_columns = ["item", "group", "n_windows", "max_score", "mean_score", "topk_mean", "argmax_ms", "path"]
    write_items(pd.DataFrame(items, columns=item_columns), mined)
    return mined


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], port: int, probe: str) -> tuple[subprocess.Popen, float]:
    """Start ``command``; return it and the seconds until ``GET probe`` answers."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while True:
        if process.poll() is not None:
            sys.exit(f"server failed: {' '.join(command)}\n{process.stderr.read()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", probe)
            connection.getresponse().read()
            connection.close()
            return process, time.perf_counter() - started
        except OSError:
            time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def call(connection, method, path, body=None, headers=None) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    connection.request(method, path, body=None if body is None else json.dumps(body),
                       headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    response = connection.getresponse()
    data = response.read()
    return time.perf_counter() - started, response.status, data


def percentiles(seconds) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    return {name: float(np.percentile(ms, q)) for name, q in (("p50", 50), ("p95", 95), ("p99", 99))}


def round_trips(port, n, body_of, *, method="POST", path="/api/decisions", headers=None, clients=1):
    """``n`` requests split over ``clients`` keep-alive connections at once; every request's seconds."""
    times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(worker):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for k in range(worker, n, clients):
            elapsed, status, data = call(connection, method, path, body_of(k) if method == "POST" else None, headers)
            if status != 200:
                failures.append(data[:200].decode(errors="replace"))
            mine.append(elapsed)
        connection.close()
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=client, args=(worker,)) for worker in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        sys.exit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return times, wall


# ----------------------------------------------------------------------------- the page in Chromium


READY_PROBE = """
window.__ready_ms = null;
new MutationObserver((_, observer) => {
  if (document.body && document.body.dataset.ready === "1") {
    window.__ready_ms = performance.now();
    window.__cards = document.querySelectorAll(".card").length;
    observer.disconnect();
  }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-ready"]});
"""


def first_renders(url: str, loads: int, *, block_media: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        # one warm-up load so that the browser's own start is not in the figures
        for load in range(loads + 1):
            context = browser.new_context(viewport={"width": 1600, "height": 1000})  # a fresh cache each time
            page = context.new_page()
            page.add_init_script(READY_PROBE)
            if block_media:  # the page and its API alone, no image asked of the server
                page.route("**/snapshots/**", lambda route: route.abort())
            page.goto(url, wait_until="commit")
            page.wait_for_function("window.__ready_ms !== null", timeout=60_000)
            ready_ms, cards = page.evaluate("[window.__ready_ms, window.__cards]")
            page.wait_for_load_state("load")
            loaded_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            if load:
                out.append({"ready_ms": ready_ms, "cards": cards, "load_ms": loaded_ms})
            context.close()
        browser.close()
    return out


# ----------------------------------------------------------------------------- profile


def profile(mined: Path, n: int) -> None:
    """cProfile of the session's methods in this process, as the routes call them."""
    import cProfile
    import pstats

    from hardneg.review import ReviewSession

    session = ReviewSession.open(mined, categories=CATEGORIES.split(","), reviewer="bench")
    rng = np.random.default_rng(1)
    for name, run in (
        ("open", lambda: ReviewSession.open(mined, reviewer="bench").close()),
        ("candidates", lambda: [session.candidates({"limit": 200}) for _ in range(5)]),
        ("media.resolve of the first 40 cards' images (a fresh session)", lambda: resolve_first(mined, 40)),
        ("stats", lambda: [session.stats() for _ in range(5)]),
        (
            "decide",
            lambda: [
                session.decide({"candidate": int(rng.integers(n)), "state": "skip", "request_id": f"p{k}"})
                for k in range(300)
            ],
        ),
        ("candidates after 300 decisions", lambda: [session.candidates({"limit": 200}) for _ in range(5)]),
    ):
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.runcall(run)
        print(f"\n=== {name}: {time.perf_counter() - started:.3f} s")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
    session.close()


def resolve_first(mined: Path, n: int) -> None:
    """What the first page's visible images cost the server: ``media.resolve`` of each, in a fresh session."""
    from urllib.parse import unquote

    from hardneg.review import ReviewSession

    session = ReviewSession.open(mined, reviewer="bench")
    urls = [url for c in session.candidates({"limit": n})["candidates"] for url in c["media"].values()]
    for url in urls:
        assert session.media.resolve(unquote(url.removeprefix("/snapshots/"))) is not None, url
    session.close()


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="candidates (default 20,000)")
    parser.add_argument("--items", type=int, default=20, help="frame folders (default 20)")
    parser.add_argument("--loads", type=int, default=5, help="cold page loads (default 5)")
    parser.add_argument("--decisions", type=int, default=1000, help="decisions per round-trip run (default 1,000)")
    parser.add_argument("--repeats", type=int, default=5, help="HTTP timings of the page's requests (default 5)")
    parser.add_argument("--profile", action="store_true", help="profile the session's methods instead")
    parser.add_argument("--record", action="store_true", help="append a dated section to benchmarks/RESULTS.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="review_scale_") as tmp:
        started = time.perf_counter()
        mined = make_mined(Path(tmp), args.n, args.items)
        print(f"mined folder of {args.n} image candidates written in {time.perf_counter() - started:.1f} s")
        if args.profile:
            profile(mined, args.n)
            return

        bare_port, port = free_port(), free_port()
        bare, _ = start([sys.executable, "-c", BARE_APP, str(bare_port)], bare_port, "/hello")
        review, startup = start([sys.executable, "-m", "hardneg", "review", str(mined), "--port", str(port),
                                 "--reviewer", "bench", "--categories", CATEGORIES], port, "/api/config")  # fmt: skip
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            _, _, page = call(connection, "GET", "/")
            token = re.search(rb'<meta name="hardneg-token" content="([^"]+)"', page).group(1).decode()
            headers = {"X-Hardneg-Token": token}

            def http_page():
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # idle ones get closed
                timings = {}
                for path in ("/", "/api/candidates?limit=200", "/api/stats"):
                    runs = [call(connection, "GET", path)[0] for _ in range(args.repeats)]
                    timings[path] = statistics.median(runs) * 1000
                return timings

            page_http = http_page()
            no_media = first_renders(f"http://127.0.0.1:{port}/", args.loads, block_media=True)
            renders = first_renders(f"http://127.0.0.1:{port}/", args.loads)
            bare_renders = first_renders(f"http://127.0.0.1:{bare_port}/page", args.loads)
            assert all(r["cards"] > 0 for r in renders), renders

            rng = np.random.default_rng(0)
            picks = rng.integers(args.n, size=4 * args.decisions)
            states = rng.integers(4, size=4 * args.decisions)

            def decision(offset):
                def body(k):
                    state = STATES[states[offset + k]]
                    return {"candidate": int(picks[offset + k]), "state": state,
                            "category": "cones" if state == "negative" else None,
                            "request_id": f"b{offset + k}"}  # fmt: skip

                return body

            echo = decision(2 * args.decisions)
            bare_get, _ = round_trips(bare_port, args.decisions, None, method="GET", path="/hello")
            config_get, _ = round_trips(port, args.decisions, None, method="GET", path="/api/config")
            bare_post, _ = round_trips(bare_port, args.decisions, echo, path="/echo")
            sequential, seq_wall = round_trips(port, args.decisions, decision(0), headers=headers)
            bare_post4, _ = round_trips(bare_port, args.decisions, echo, path="/echo", clients=4)
            concurrent, conc_wall = round_trips(port, args.decisions, decision(args.decisions), headers=headers,
                                                clients=4)  # fmt: skip
            page_http_after = http_page()
            renders_after = first_renders(f"http://127.0.0.1:{port}/", args.loads)
        finally:
            stop(review)
            stop(bare)

    ready = [r["ready_ms"] for r in renders]
    ready_after = [r["ready_ms"] for r in renders_after]
    pct = {name: percentiles(t) for name, t in (("bare_get", bare_get), ("config", config_get),
                                                 ("bare_post", bare_post), ("seq", sequential),
                                                 ("bare_post4", bare_post4), ("conc", concurrent))}  # fmt: skip

    def fmt(p):
        return f"{p['p50']:.1f} / {p['p95']:.1f} / {p['p99']:.1f}"

    median_ready = statistics.median(ready)
    no_media_ready = [r["ready_ms"] for r in no_media]
    bare_ready = statistics.median(r["ready_ms"] for r in bare_renders)
    render_verdict = "meets" if median_ready < FIRST_RENDER_TARGET_S * 1000 else "MISSES"
    runs = ", ".join(f"{r:.0f}" for r in ready)

    def http_sum(timings):
        return f"{sum(timings.values()):.1f} ms ({' + '.join(f'{v:.1f}' for v in timings.values())})"

    def decisions(key, bare_key, wall):
        p95 = pct[key]["p95"]
        verdict = "meets" if p95 < P95_TARGET_MS else "MISSES"
        ratio = p95 / pct[bare_key]["p95"]
        return (
            f"{fmt(pct[key])} ms ({args.decisions / wall:.0f}/s; p95 {ratio:.1f}x the bare echo; "
            f"target p95 < {P95_TARGET_MS:.0f} ms: {verdict})"
        )

    rows = [
        ("candidates", f"{args.n:,} images in {args.items} folders, a 160x90 JPEG snapshot each"),
        ("server start (`hardneg review` until it answers)", f"{startup:.2f} s"),
        (
            f"**first render** (navigation to the first cards drawn), median of {args.loads} cold loads",
            f"**{median_ready:.0f} ms** (runs {runs}; target < {FIRST_RENDER_TARGET_S * 1000:.0f} ms: {render_verdict})",
        ),
        (
            "baseline: a bare FastAPI page that sets ready at once, median",
            f"{bare_ready:.0f} ms (first render {median_ready / bare_ready:.1f}x it)",
        ),
        (
            "first render with the `/snapshots/` requests blocked in the browser (page and API alone), median",
            f"{statistics.median(no_media_ready):.0f} ms (runs {', '.join(f'{r:.0f}' for r in no_media_ready)})",
        ),
        (
            "page load event (the first cards' images included), median",
            f"{statistics.median(r['load_ms'] for r in renders):.0f} ms",
        ),
        ("HTTP, median of 5: `GET /` + `GET /api/candidates?limit=200` + `GET /api/stats`", http_sum(page_http)),
        (
            "first render after the decisions below, median; its HTTP",
            f"{statistics.median(ready_after):.0f} ms; {http_sum(page_http_after)}",
        ),
        ("baseline: bare FastAPI `GET /hello`, p50 / p95 / p99", f"{fmt(pct['bare_get'])} ms"),
        ("`GET /api/config`, p50 / p95 / p99", f"{fmt(pct['config'])} ms"),
        ("baseline: bare FastAPI `POST /echo`, 1 connection, p50 / p95 / p99", f"{fmt(pct['bare_post'])} ms"),
        (
            f"**decision** round trip, {args.decisions:,} sequential, 1 keep-alive connection, p50 / p95 / p99",
            f"**{decisions('seq', 'bare_post', seq_wall)}**",
        ),
        ("baseline: bare FastAPI `POST /echo`, 4 clients at once, p50 / p95 / p99", f"{fmt(pct['bare_post4'])} ms"),
        (
            f"decision round trip, {args.decisions:,} from 4 clients at once, p50 / p95 / p99",
            decisions("conc", "bare_post4", conc_wall),
        ),
    ]
    table = measure_table(rows)
    print(table)
    if args.record:
        versions = package_versions(["fastapi", "uvicorn", "playwright", "pandas"])
        load = os.getloadavg()[0]
        append_results(
            f"`hardneg review` at {args.n:,} candidates (`benchmarks/review_scale.py`, commit {git_commit()})",
            f"`python benchmarks/review_scale.py --n {args.n}` ({', '.join(f'{k} {v}' for k, v in versions.items())};"
            f" Chromium {chromium_version()}; load average {load:.1f} at the end)",
            table,
        )


def chromium_version() -> str:
    try:
        done = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20, check=False
        )
        return done.stdout.split()[1]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


if __name__ == "__main__":
    main()
