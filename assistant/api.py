"""`docent serve`: Docent as an OpenAI-compatible HTTP API, on FastAPI and uvicorn.

    GET  /v1/models             one model per answer mode (docent-base, docent-tuned, docent-retrieval, docent-both),
                                and docent-tuned:<run> / docent-both:<run> for every finished run
    POST /v1/chat/completions   the answer to the conversation's last question, whole or streamed (server-sent
                                events); `docent` beside `choices` holds its sources, support and timing
    POST /v1/search             the ranked chunks, as `docent search --json` prints them
    GET  /healthz               no key needed
    GET  /metrics               Prometheus: requests, latency, first token, tokens, by endpoint and mode

Every other path needs `Authorization: Bearer KEY` once the workspace has had a key (`docent keys create LABEL`); the
key is checked before the request's body is read, so a refused request costs no model time. Answers go through
the same engine as the web app (service.Docent): questions asked at the same moment are answered in one batch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import keys
from assistant.answer import Answer
from assistant.config import FUSIONS, LOCAL_HOSTS, MODES, USES_ADAPTER, AnswerConfig
from assistant.config import MODEL_PREFIX as PREFIX
from assistant.service import Asking, Docent
from ingest import store
from ingest.models import ModelError
from ingest.records import OWNER, Access
from ingest.store import WorkspaceError

MAX_BODY_BYTES = 256 * 1024  # a conversation at its longest (40,000 characters) fits several times over
MAX_TOKENS = 1024  # the longest answer a request may ask for
OPEN = {"/healthz"}  # paths that need no key
# The web app as the API's client (`docent ui --api`) signs its people in and asks as the one signed in; only the
# owner's keys may name someone, and what that person may read is all they get.
ACTING_AS = "x-docent-user"
ENDPOINTS = {"/healthz", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/search"}  # the rest count as "other"
THREADS = 1024  # requests waiting on the engine at once, each on a thread of anyio's pool (40 by default)
log = logging.getLogger("docent.api")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: the text ones, joined
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # temperature, top_p, seed and the like are accepted and ignored: Docent answers greedily, as it is measured.
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)


class SearchRequest(BaseModel):
    query: str
    k: int = Field(default=5, ge=1, le=50)
    fusion: Literal["rrf", "dense", "bm25"] = "rrf"


class Refused(Exception):
    """A request Docent will not answer, with its HTTP status and one sentence."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    """The error body OpenAI clients read: {"error": {"message", "type", "code"}}."""
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def parse_model(model: str, docent: Docent, access: Access) -> tuple[str, str | None]:
    """`docent-<mode>` or `docent-<mode>:<run>` as the mode and the run it names."""
    name, _, run = model.partition(":")
    mode = name.removeprefix(PREFIX)
    if not name.startswith(PREFIX) or mode not in MODES or (run and mode not in USES_ADAPTER):
        raise Refused(404, f"no model {model!r}: GET /v1/models lists them", "model_not_found")
    if run:
        try:
            docent.finished_run(run, access)
        except LookupError as err:
            raise Refused(404, str(err), "model_not_found") from err
    return mode, run or None


def conversation(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The last question, and the (question, answer) turns before it: system messages are Docent's own to write."""
    said = [m for m in messages if m.role in ("user", "assistant")]
    if not said or said[-1].role != "user":
        raise Refused(400, "messages: the last message must be the user's question")
    history, asked = [], None
    for m in said[:-1]:
        if m.role == "user":
            asked = m.text
        elif asked is not None:
            history.append((asked, m.text))
            asked = None
    return said[-1].text, history


class Gate:
    """ASGI middleware: a request `refusal` turns away gets its answer here and reaches nothing else; every request
    is counted, by path, mode and status. Plain ASGI rather than FastAPI's `@app.middleware`, which stands between
    the response and the client, so that a client's going away reaches the answer it was streaming."""

    def __init__(self, app: ASGIApp, refusal: Callable[[Scope], JSONResponse | None], metrics: Metrics):
        self.app, self.refusal, self.metrics = app, refusal, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        refused = self.refusal(scope)
        try:
            if refused is not None:
                await refused(scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        finally:
            mode = scope.get("state", {}).get("mode", "")
            endpoint = scope["path"] if scope["path"] in ENDPOINTS else "other"  # a series per path would grow
            self.metrics.requests.labels(endpoint, mode, str(status[0])).inc()


class Metrics:
    """Prometheus figures of one app (its own registry, so that several apps in one process do not clash)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "docent_requests",
            "requests by endpoint, mode and status",
            ["endpoint", "mode", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "docent_request_seconds", "time to the whole answer", ["endpoint", "mode"], registry=self.registry
        )
        self.first_token = Histogram(
            "docent_first_token_seconds", "time to the first piece of an answer", ["mode"], registry=self.registry
        )
        self.tokens = Counter("docent_completion_tokens", "tokens generated", ["mode"], registry=self.registry)

    def answered(self, mode: str, result: Answer, seconds: float) -> None:
        self.latency.labels("/v1/chat/completions", mode).observe(seconds)
        if result.timing.first_token_s:
            self.first_token.labels(mode).observe(result.timing.first_token_s)
        self.tokens.labels(mode).inc(result.timing.tokens)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def create_app(docent: Docent, require_key: bool | None = None) -> FastAPI:
    """The API over one engine. Keys are required once the workspace has had one (`require_key=None`), or always
    (True: a server that listens beyond this machine)."""
    from starlette.middleware.body_limit import RequestBodyLimitMiddleware

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield

    app = FastAPI(title="Docent", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    # Inside the key check, so that who is asking is known first: a body sent in chunks is cut off at the limit.
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES)
    metrics = Metrics()
    key_db = docent.library.db()

    def refusal(scope: Scope) -> JSONResponse | None:
        """Before anything is read: who is asking, and how much they send."""
        headers = Headers(scope=scope)
        scope.setdefault("state", {})["access"] = OWNER  # without keys: this machine's own requests, as the owner
        if require_key or keys.required(key_db):
            scheme, _, given = headers.get("authorization", "").partition(" ")
            key = keys.check(key_db, given.strip()) if scheme.lower() == "bearer" else None
            if scope["path"] not in OPEN and key is None:
                refused = error(401, "a valid API key is needed: Authorization: Bearer KEY", "authentication_error")
                refused.headers["WWW-Authenticate"] = "Bearer"
                return refused
            # read at each request, so that a grant or a revoke counts from the next one
            scope["state"]["access"] = store.access_of(key_db, key.person) if key and key.person else OWNER
        elif urlsplit("//" + headers.get("host", "")).hostname not in LOCAL_HOSTS:
            # Without keys only this machine may ask: a web page whose name was pointed at 127.0.0.1 (DNS
            # rebinding) sends its own name as the Host, and is turned away.
            return error(403, "this server has no API key, so it answers only requests addressed to localhost")
        acting = headers.get(ACTING_AS, "").strip()
        if acting and scope["path"] not in OPEN:  # a front end that signed its people in asks as one of them
            current = scope["state"]["access"]
            if not current.owner and acting != current.name:
                return error(403, f"a person's key answers only as that person, not as {acting!r}")
            try:
                scope["state"]["access"] = store.access_of(key_db, acting)
            except WorkspaceError as err:
                return error(403, str(err))
        if int(headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return error(413, f"the request is too large: at most {MAX_BODY_BYTES // 1024} KB")
        return None

    app.add_middleware(Gate, refusal=refusal, metrics=metrics)

    @app.exception_handler(Refused)
    async def refused(request: Request, err: Refused) -> JSONResponse:
        return error(err.status, err.message, err.kind)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return error(400, f"{where}: {first.get('msg', 'malformed request')}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        sentences = {404: "no such endpoint", 405: "method not allowed here"}
        return error(err.status_code, sentences.get(err.status_code, str(err.detail)))

    @app.exception_handler(Exception)
    async def failed(request: Request, err: Exception) -> JSONResponse:
        log.exception("answering %s failed", request.url.path)
        return error(500, "Docent failed to answer this request; the server's log says why", "server_error")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        from prometheus_client import CONTENT_TYPE_LATEST

        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    def models(request: Request) -> dict[str, Any]:
        access = request.state.access
        names = [PREFIX + m for m in docent.modes(access)]
        for run in docent.answering_runs(access).values():
            names += [f"{PREFIX}{m}:{run.id}" for m in USES_ADAPTER if PREFIX + m in names]
        return {
            "object": "list",
            "data": [{"id": n, "object": "model", "created": 0, "owned_by": "docent"} for n in names],
        }

    @app.post("/v1/search")
    async def search(body: SearchRequest, request: Request) -> dict[str, Any]:
        if body.fusion not in FUSIONS:
            raise Refused(400, f"fusion: one of {', '.join(FUSIONS)}")
        access = request.state.access
        found = await run_in_threadpool(
            _answering, lambda: docent.search(body.query, body.k, body.fusion, access=access)
        )
        docent.library.audit_search(access, body.query.strip(), found, "api")
        return {"question": body.query.strip(), "results": [s.to_json() for s in found]}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest, request: Request) -> Any:
        access = request.state.access
        mode, run = parse_model(body.model, docent, access)
        request.state.mode = mode
        question, history = conversation(body.messages)
        limit = body.max_completion_tokens or body.max_tokens
        cfg = AnswerConfig(max_new_tokens=limit) if limit else AnswerConfig()
        start = time.perf_counter()
        asking = await run_in_threadpool(
            _answering, lambda: docent.ask(question, mode, history, cfg, run, access=access)
        )
        reply = Reply(body.model, mode, asking.run, cfg.max_new_tokens)

        def answered(result: Answer) -> None:
            metrics.answered(mode, result, time.perf_counter() - start)
            docent.library.audit_answer(access, result, asking.run, "api")

        if body.stream:
            return StreamingResponse(reply.events(asking, answered), media_type="text/event-stream")
        text = await run_in_threadpool(_answering, lambda: "".join(asking.text()))
        result = asking.answer()
        answered(result)
        return reply.whole(text, result)

    return app


def _answering(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, with what can go wrong while answering turned into a sentence for the client."""
    try:
        return fn(*args)
    except ValueError as err:  # a question too long, no documents, no tuned run yet
        raise Refused(400, str(err)) from err
    except LookupError as err:
        raise Refused(404, str(err), "model_not_found") from err
    except ModelError as err:  # the model server is down, an adapter it will not take
        raise Refused(503, str(err), "server_error") from err


class Reply:
    """One chat completion, as OpenAI's clients read it, with Docent's own figures under `docent`."""

    def __init__(self, model: str, mode: str, run: str | None, max_tokens: int):
        self.id, self.created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        self.model, self.mode, self.run, self.max_tokens = model, mode, run, max_tokens

    def extra(self, result: Answer) -> dict[str, Any]:
        return {**result.to_json(), "run": self.run}

    def usage(self, result: Answer) -> dict[str, int]:
        prompt = int(result.timing.extra.get("prompt_tokens", 0))
        return {
            "prompt_tokens": prompt,
            "completion_tokens": result.timing.tokens,
            "total_tokens": prompt + result.timing.tokens,
        }

    def finish_reason(self, result: Answer) -> str:
        return "length" if result.timing.tokens >= self.max_tokens else "stop"

    def whole(self, text: str, result: Answer) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.text or text.strip()},
                    "finish_reason": self.finish_reason(result),
                }
            ],
            "usage": self.usage(result),
            "docent": self.extra(result),
        }

    def chunk(self, delta: dict[str, str], finish: str | None = None, **more: Any) -> str:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **more,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    async def events(self, asking: Asking, done: Callable[[Answer], None]) -> AsyncIterator[str]:
        """Server-sent events: the role, each piece of text, then a last chunk with the finish reason, usage and
        `docent`, then [DONE]. A client that goes away cancels its answer, which frees its place in the batch."""
        pieces = asking.text()
        try:
            yield self.chunk({"role": "assistant", "content": ""})
            # Each piece is awaited on a thread that a client's going away abandons at once: the answer is
            # cancelled below, and a question still waiting for its batch never reaches the model.
            while (piece := await anyio.to_thread.run_sync(next, pieces, None, abandon_on_cancel=True)) is not None:
                yield self.chunk({"content": piece})
            result = asking.answer()
            done(result)
            yield self.chunk({}, self.finish_reason(result), usage=self.usage(result), docent=self.extra(result))
        except Exception as err:  # the headers are sent: the error goes in the stream
            if isinstance(err, (ValueError, ModelError)):
                message, kind = str(err), "server_error" if isinstance(err, ModelError) else "invalid_request_error"
            else:
                log.exception("streaming an answer failed")
                message, kind = "Docent failed to answer this request; the server's log says why", "server_error"
            yield f"data: {json.dumps({'error': {'message': message, 'type': kind}})}\n\n"
        finally:
            asking.cancel()  # a no-op once the answer is whole
        yield "data: [DONE]\n\n"
