"""``hardneg review``: triage mined candidates in the browser."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from hardneg.cli.common import Quiet

__all__ = ["register", "review"]


def review(
    mined: Annotated[
        Path, typer.Argument(help="A folder written by `hardneg mine` (its --out).", show_default=False)
    ],
    host: Annotated[
        str,
        typer.Option(help="Address to listen on. Only this machine can reach the default; another address is "
                     "reachable from the network (a warning says so)."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    categories: Annotated[
        str | None,
        typer.Option(help="Comma-separated kinds of negative, e.g. trucks,cones,signs,weather,other; keys 1-9 "
                     "mark a candidate as a confirmed negative of that kind. Kept for later sessions.",
                     show_default=False),
    ] = None,
    reviewer: Annotated[
        str | None,
        typer.Option(help="Your name in the decision log (default: your login name). Two reviewers on the same "
                     "candidates get an agreement table.", show_default=False),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Open a page to triage mined candidates, keyboard first; every decision is saved as you make it.

    The page shows each candidate with its snapshot (a video frame with the frames before and after, an audio
    spectrogram with a few seconds of context to play, or the sensor channels around the window, a panel per
    channel group), its score, item, group, time and tier; filters by tier, score band, item, group, category and
    review state; orders by score, at random (seeded) or by likeness to a chosen candidate; assigns a state to
    everything shown at once (after a confirmation with the count). Keys: 1-9 a category, n confirmed negative,
    p true positive (a label error), u unsure, s skip, z undo, j/k next/previous, space play, ? all keys.

    Decisions go to MINED/review.sqlite, an append-only log: each is committed before the page is told, so
    stopping the server (even kill -9) loses nothing acknowledged, and several tabs or reviewers can work at
    once. Export them with `hardneg export MINED --format manifest|yolo|coco|dataset --out DIR`.
    Needs the review extra: pip install 'hardneg[review]'.
    """
    from hardneg.cli.common import split_names
    from hardneg.review import ReviewSession, check_port_free, create_app, is_loopback, require_web, serve

    require_web()
    check_port_free(host, port)
    session = ReviewSession.open(mined, categories=split_names(categories) or (), reviewer=reviewer)
    app = create_app(session)
    if not is_loopback(host):
        typer.echo(f"warning: listening on {host}: anyone who can reach this machine on port {port} can open the "
                   "page and record decisions; use the default 127.0.0.1 unless you mean it", err=True)
    shown = "localhost" if is_loopback(host) else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    if not quiet:
        typer.echo(f"Reviewing {session.total} candidates of {mined} ({session.progress()['reviewed']} decided so far) as "
                   f"{session.store.reviewer}: open {url}")
        typer.echo(f"Decisions are saved to {Path(mined) / 'review.sqlite'} as you make them; Ctrl-C stops the "
                   "page.")
    # uvicorn stops on Ctrl-C or SIGTERM and then raises the signal again; both are how a page is meant to stop,
    # so both end here with exit 0 rather than as an interruption.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        serve(app, host=host, port=port)
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        session.close()
    if not quiet:
        typer.echo(f"Stopped. Every decision the page showed as saved is in {Path(mined) / 'review.sqlite'}.")


class _Stopped(Exception):
    """SIGTERM arrived: stop like Ctrl-C."""


def _stopped(signum, frame):
    raise _Stopped


def register(app: typer.Typer) -> None:
    """Add ``hardneg review`` to ``app``."""
    app.command(no_args_is_help=True)(review)
