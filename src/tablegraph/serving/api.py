"""The HTTP API and the web page (FastAPI on uvicorn; `tablegraph serve`).

Endpoints (JSON in and out; OpenAPI at `/openapi.json`, a local reference page at `/docs`):

| method | path | what |
| --- | --- | --- |
| GET | `/health` | status, number of tables, model, index, last refresh |
| POST | `/search` | `{"question", "k"}` -> the result record |
| POST | `/sql-context` | `{"question", "k", "values"}` -> the record and `sql_context` |
| GET | `/tables` | every table with its number of columns and rows |
| GET | `/tables/{name}` | the describe record of one table |
| POST | `/join-path` | `{"tables": [...]}` -> the tables with their bridges and joins |
| POST | `/refresh` | rebuild the index in the background (202); GET: its state |
| GET | `/` | the web page (assets from this package, nothing from a CDN) |

Errors are `{"error": "one line"}` with 400 (a bad request), 401 (no or wrong token), 404 (no
such table or path), 413 (body over `MAX_BODY` bytes), 422 (a malformed body) or 500. With a
token (`token`), every endpoint but `/health`, `/` and its assets needs `Authorization: Bearer
<token>`. The log has method, path, status and milliseconds; question text only with
`log_questions`. Nothing here executes SQL from a request or shows a credential.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tablegraph.serving.service import MAX_K, MAX_QUESTION_CHARS, SearchService
from tablegraph.utils import TableGraphError

MAX_BODY = 64 * 1024
PUBLIC = ("/health", "/", "/static/", "/favicon.ico")
log = logging.getLogger("tablegraph.serve")


class SearchRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(5, ge=1, le=MAX_K)


class SqlContextRequest(SearchRequest):
    values: bool = True


class JoinPathRequest(BaseModel):
    tables: list[str] = Field(..., min_length=1, max_length=MAX_K)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _json(obj: Any) -> Response:
    """A JSON answer, serialised once (the records are plain JSON already)."""
    return Response(json.dumps(obj), media_type="application/json")


class Guard:
    """Pure ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware): body size bound,
    bearer token, and one log line per request without its body."""

    def __init__(self, app, token: str | None = None) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        path = scope["path"]
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        status = [0]

        async def record(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await _error(413, f"request body over {MAX_BODY} bytes")(scope, receive, record)
        elif self.expected and not (path in PUBLIC or path.startswith("/static/")) and not \
                hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            await _error(401, "missing or wrong bearer token")(scope, receive, record)
        else:
            await self.app(scope, receive, record)
        log.info("%s %s %d %.1fms", scope["method"], path, status[0],
                 1000 * (time.perf_counter() - t0))


def _asset(name: str) -> bytes:
    return resources.files("tablegraph.serving").joinpath("web", name).read_bytes()


ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def create_app(service: SearchService, token: str | None = None,
               log_questions: bool = False) -> FastAPI:
    """The ASGI app over `service` (see the module docstring)."""
    app = FastAPI(title="tablegraph", version="1", docs_url=None, redoc_url=None,
                  description="Which tables hold this? Ranked tables, the set a query needs "
                              "and its joins, for questions over one database.")

    app.add_middleware(Guard, token=token)

    @app.exception_handler(TableGraphError)
    async def user_error(request: Request, e: TableGraphError):
        message = str(e).splitlines()[0] if str(e) else "bad request"
        return _error(404 if message.startswith("no table") else 400, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        errs = e.errors()
        first = errs[0] if errs else {}
        if first.get("type") == "json_invalid":
            return _error(422, "the request body is not valid JSON")
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException):
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(Exception)
    async def crash(request: Request, e: Exception):
        log.exception("internal error on %s", request.url.path)
        return _error(500, f"internal error ({type(e).__name__})")

    def note(question: str) -> None:
        if log_questions:
            log.info("question: %s", question)

    @app.get("/health", summary="Status, tables, model, last refresh")
    def health() -> dict[str, Any]:
        return service.health()

    # Searches run on the event loop, one at a time: each takes milliseconds, and on a few
    # cores that beats threads contending for the interpreter.
    @app.post("/search", summary="Ranked tables, the set and its joins for a question")
    async def search(req: SearchRequest) -> Response:
        note(req.question)
        return _json(service.search(req.question, req.k))

    @app.post("/sql-context", summary="CREATE TABLE statements of the set and its joins")
    def sql_context(req: SqlContextRequest) -> dict[str, Any]:
        note(req.question)
        return service.sql_context(req.question, req.k, req.values)

    @app.get("/tables", summary="Every table with its columns and rows")
    def tables() -> list[dict[str, Any]]:
        return service.tables_list()

    @app.get("/tables/{name}", summary="The describe record of one table")
    def describe(name: str) -> dict[str, Any]:
        return service.describe(name)

    @app.post("/join-path", summary="Bridge tables and joins that connect the tables given")
    def join_path(req: JoinPathRequest) -> dict[str, Any]:
        return service.join_path(req.tables)

    @app.post("/refresh", status_code=202, summary="Rebuild the index in the background")
    def refresh() -> dict[str, Any]:
        started = service.refresh()
        return {"started": started, **service.refresh_state.to_dict()}

    @app.get("/refresh", summary="State of the last refresh")
    def refresh_state() -> dict[str, Any]:
        return service.refresh_state.to_dict()

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(_asset("index.html").decode("utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        kind = next((v for k, v in ASSET_TYPES.items() if name.endswith(k)), None)
        if kind is None or "/" in name or name.startswith("."):
            return _error(404, f"no such asset: {name}")
        try:
            return Response(_asset(name), media_type=kind)
        except FileNotFoundError:
            return _error(404, f"no such asset: {name}")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        spec = app.openapi()
        rows = "".join(
            f"<tr><td><code>{m.upper()}</code></td><td><code>{p}</code></td>"
            f"<td>{op.get('summary', '')}</td></tr>"
            for p, ops in spec["paths"].items() for m, op in ops.items())
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>tablegraph API</title>"
            "<link rel=stylesheet href=/static/style.css><main><h1>tablegraph API</h1>"
            "<p>The full OpenAPI description: <a href=/openapi.json>/openapi.json</a>.</p>"
            f"<table class=docs><tr><th>method</th><th>path</th><th>what</th></tr>{rows}"
            "</table></main>")

    return app
