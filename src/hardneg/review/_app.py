"""The review web app: an app factory, a router per resource, no module-global state.

(No ``from __future__ import annotations`` here: FastAPI reads the route signatures, whose types are imported
inside the router factories so that importing this package needs no web extra.)

Everything a request needs hangs off ``app.state.review`` (a
:class:`ReviewSession` and the session token), set by :func:`create_app`, so
two apps (two mined folders, or a test next to a server) never share state.

Routes
------
``GET /``
    The page; its session token is in ``<meta name="hardneg-token">``.
``GET /api/config``, ``GET /api/candidates``, ``GET /api/stats``
    Read-only JSON (filters are query parameters).
``POST /api/decisions``, ``POST /api/bulk``, ``POST /api/undo``
    Writes; they need the header ``X-Hardneg-Token`` and answer only once the
    decision is committed to ``review.sqlite``.
``GET /snapshots/{path}``
    Registered snapshot and media files only (HTTP range requests for audio).
"""


import hmac
import json
import secrets
from html import escape
from importlib import resources
from pathlib import Path

from hardneg.errors import InputError
from hardneg.review._session import ReviewSession, SelectionChanged

__all__ = ["TOKEN_HEADER", "check_port_free", "create_app", "is_loopback", "require_web", "serve"]

TOKEN_HEADER = "X-Hardneg-Token"
_STATIC = {"review.js": "text/javascript", "review.css": "text/css"}


def require_web():
    """Import FastAPI, or say in one line which extra to install."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise InputError("the review page needs FastAPI and uvicorn: pip install 'hardneg[review]'") from None


def create_app(session: ReviewSession, *, token: str | None = None):
    """A FastAPI app serving ``session`` (see the module docstring for the routes).

    Parameters
    ----------
    session : ReviewSession
    token : str, optional
        The session token write requests must carry; a random one when not given.
    """
    require_web()
    from fastapi import FastAPI

    app = FastAPI(title="hardneg review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = session
    app.state.token = token or secrets.token_urlsafe(32)
    _add_error_handlers(app)
    app.include_router(_page_router())
    app.include_router(_candidates_router(), prefix="/api")
    app.include_router(_decisions_router(), prefix="/api")
    app.include_router(_stats_router(), prefix="/api")
    app.include_router(_snapshots_router())
    return app


# ---------------------------------------------------------------------------------------------- dependencies


def _session(request) -> ReviewSession:
    return request.app.state.review


def _check_token(request) -> None:
    from fastapi import HTTPException

    given = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(given.encode(), request.app.state.token.encode()):
        raise HTTPException(status_code=403, detail=f"missing or wrong {TOKEN_HEADER}; reload the page")


def _add_error_handlers(app) -> None:
    from fastapi.responses import JSONResponse

    @app.exception_handler(SelectionChanged)
    async def _changed(request, error: SelectionChanged):
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(InputError)
    async def _input(request, error: InputError):
        return JSONResponse({"detail": str(error), "parameter": error.parameter}, status_code=422)


# ---------------------------------------------------------------------------------------------- routers


def _page_router():
    from fastapi import APIRouter, Request
    from fastapi.responses import HTMLResponse, Response

    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    def page(request: Request):
        session = _session(request)
        template = resources.files("hardneg.review").joinpath("page.html").read_text(encoding="utf-8")
        config = json.dumps(session.config()).replace("</", "<\\/")
        html = (
            template.replace("{{TOKEN}}", escape(request.app.state.token, quote=True))
            .replace("{{TITLE}}", escape(Path(session.review.mined_dir).name or "review"))
            .replace("{{CONFIG}}", config)
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    @router.get("/static/{name}")
    def static(name: str):
        from fastapi import HTTPException

        if name not in _STATIC:
            raise HTTPException(status_code=404)
        body = resources.files("hardneg.review").joinpath(name).read_bytes()
        return Response(body, media_type=_STATIC[name], headers={"Cache-Control": "no-cache"})

    return router


def _candidates_router():
    from fastapi import APIRouter, Request

    router = APIRouter()

    @router.get("/config")
    def config(request: Request):
        return _session(request).config()

    @router.get("/candidates")
    def candidates(request: Request):
        return _session(request).candidates(dict(request.query_params))

    @router.get("/candidates/{candidate_id}")
    def candidate(candidate_id: int, request: Request):
        from fastapi import HTTPException

        session = _session(request)
        if not 0 <= candidate_id < session.total:
            raise HTTPException(status_code=404, detail=f"no candidate {candidate_id}")
        return session.describe([candidate_id])[0]

    return router


def _decisions_router():
    from fastapi import APIRouter, Request

    router = APIRouter()

    # Plain `def`: FastAPI runs them in its thread pool, so a commit waiting on the disk blocks no other request.
    @router.post("/decisions")
    def decide(request: Request, body: dict):
        _check_token(request)
        return _session(request).decide(body)

    @router.post("/bulk")
    def bulk(request: Request, body: dict):
        _check_token(request)
        return _session(request).bulk(body)

    @router.post("/undo")
    def undo(request: Request, body: dict):
        _check_token(request)
        return _session(request).undo(body)

    return router


def _stats_router():
    from fastapi import APIRouter, Request

    router = APIRouter()

    @router.get("/stats")
    def stats(request: Request):
        return _session(request).stats()

    return router


def _snapshots_router():
    from fastapi import APIRouter, HTTPException, Request
    from fastapi.responses import FileResponse

    router = APIRouter()

    @router.get("/snapshots/{path:path}")
    def snapshot(path: str, request: Request):
        session = _session(request)
        try:
            file = session.media.resolve(path)
        except InputError as error:  # registered, but the pool file no longer gives it
            raise HTTPException(status_code=404, detail=str(error)) from None
        if file is None:
            raise HTTPException(status_code=404, detail="not found")
        # FileResponse answers Range requests (206), so audio seeks without fetching the whole clip.
        return FileResponse(file, headers={"Cache-Control": "private, max-age=3600"})

    return router


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (``127.0.0.1``, ``::1``, ``localhost``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("192.168.1.5")
    (True, True, False, False)
    """
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`InputError` naming ``port`` when it cannot be bound (in use, or not allowed)."""
    import socket

    if not 0 < int(port) < 65536:
        raise InputError(f"port must be in 1..65535, got {port}", parameter="port")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError as error:
            raise InputError(f"port {port} on {host} cannot be used ({error.strerror}); pick another port, or stop "
                             "the program holding it", parameter="port") from None  # fmt: skip


def serve(app, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run ``app`` with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=int(port), log_level="warning", access_log=False)
