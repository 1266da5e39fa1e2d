"""Answering through an OpenAI-compatible model server (`--llm-url`): vLLM, or Ollama and llama.cpp's server for the
modes without an adapter. The prompts are the same messages as in this process; the server applies its chat
template. The `openai` client does the HTTP: its retries, timeouts and server-sent events.

`base` and `retrieval` name the server's base model; `tuned` and `both` name a run's adapter, which vLLM serves as a
model of its own. Docent registers the adapter with vLLM while it runs (`POST /v1/load_lora_adapter`, allowed when
vLLM was started with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True), or says the `--lora-modules` flag to start vLLM with.
The adapter's folder must be readable by the server at the same path (the same machine, or a shared disk).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from assistant.config import llm_timeout
from assistant.generate import Timing
from assistant.metrics import loop_start
from ingest.models import ModelError

# A server may take config.llm_timeout() seconds (--llm-timeout, DOCENT_LLM_TIMEOUT) to begin an answer, and as long
# between two streamed pieces. A question the server took is never asked again: one that timed out may still be in
# its queue, and asking again would only add to the load that made it late. A question that never reached it (the
# connection refused, or not taken within CONNECT_S) is sent again, twice.
CONNECT_S = 10.0
RESENDS = 2
PARALLEL = 16  # requests in flight at once for a batch: the server batches them itself
T = TypeVar("T")


def url_from(given: str | None) -> str:
    """The server's URL from a flag, else DOCENT_LLM_URL; "" to answer in this process."""
    return (given or os.environ.get("DOCENT_LLM_URL", "")).rstrip("/")


class ServerLLM:
    """An Engine (generate.Engine) whose model runs in an OpenAI-compatible server."""

    def __init__(self, url: str, key: str | None = None, model: str | None = None, timeout_s: float | None = None):
        from openai import OpenAI, Timeout

        self.url = shown_url(url)  # as messages say it: without a password or a key it may carry
        key = key or os.environ.get("DOCENT_LLM_KEY") or "none"  # most local servers take any key
        timeout = Timeout(llm_timeout(timeout_s), connect=CONNECT_S)
        self.client = OpenAI(base_url=url, api_key=key, timeout=timeout, max_retries=RESENDS)  # listing, registering
        self.asking = self.client.with_options(max_retries=0)  # answers: resent only when never received (_send)
        self.served = self._models()
        bases = [m.id for m in self.served if getattr(m, "parent", None) is None]
        self.name = model or (bases[0] if bases else "")
        if not self.name:
            raise ModelError(f"the model server at {url} lists no model: start it with one")
        self.adapter: str | None = None  # the run whose adapter tuned modes answer with
        self.attached = [m.id for m in self.served if getattr(m, "parent", None) is not None]

    def _models(self) -> list[Any]:
        try:
            return list(self.client.models.list())
        except Exception as err:
            reason = f"the model server at {self.url} did not answer ({_reason(err)})"
            raise ModelError(f"{reason}: start it, or check --llm-url") from err

    def attach(self, adapter: Path, name: str, default: bool = True) -> None:
        """Make run `name`'s adapter answerable: served already (vLLM's --lora-modules), or registered now."""
        if name not in self.attached:
            try:
                self.client.post(
                    "/load_lora_adapter", body={"lora_name": name, "lora_path": str(adapter.resolve())}, cast_to=str
                )
            except Exception as err:
                raise ModelError(
                    f"the model server at {self.url} does not serve run {name}'s adapter and did not take it "
                    f"({_reason(err)}). Start vLLM with `--enable-lora --max-lora-rank 64 --lora-modules "
                    f"{name}={adapter.resolve()}` (or with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, so that Docent "
                    "registers it); servers other than vLLM (Ollama, llama.cpp) answer base and retrieval only"
                ) from err
            self.attached.append(name)
        if default or self.adapter is None:
            self.adapter = name

    def check(self, tuned: bool, adapter: str | None = None) -> None:
        if tuned and self.adapter is None:
            raise ModelError("no fine-tuned adapter is served: run `docent tune` first")
        if tuned and adapter is not None and adapter not in self.attached:
            raise ModelError(f"the model server at {self.url} does not serve the adapter {adapter!r}")

    def _model(self, tuned: bool, adapter: str | None) -> str:
        self.check(tuned, adapter)
        return str(adapter or self.adapter) if tuned else self.name

    def stream(
        self,
        messages: list[dict[str, str]],
        max_new_tokens: int,
        timing: Timing,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> Iterator[str]:
        """The answer as the server streams it, greedy; stops reading once it begins to loop."""
        model = self._model(tuned, adapter)
        start, text = time.perf_counter(), ""
        try:
            chunks = _send(
                lambda: self.asking.chat.completions.create(  # type: ignore[call-overload]
                    model=model,
                    messages=messages,
                    max_tokens=max_new_tokens,
                    temperature=0.0,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            with chunks:
                for chunk in chunks:
                    if chunk.usage is not None:
                        timing.tokens = chunk.usage.completion_tokens
                        timing.extra["prompt_tokens"] = chunk.usage.prompt_tokens
                    piece = chunk.choices[0].delta.content if chunk.choices else None
                    if not piece:
                        continue
                    timing.first_token_s = timing.first_token_s or time.perf_counter() - start
                    text += piece
                    yield piece
                    if loop_start(text) is not None:  # the caller cuts the repeats off (metrics.unloop)
                        break
        except ModelError:
            raise
        except Exception as err:
            raise ModelError(f"the model server at {self.url} failed to answer with {model} ({_reason(err)})") from err
        timing.total_s = time.perf_counter() - start

    def complete(self, messages: list[dict[str, str]], max_new_tokens: int, model: str) -> str:
        try:
            reply = _send(
                lambda: self.asking.chat.completions.create(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_new_tokens,
                    temperature=0.0,
                )
            )
        except Exception as err:
            raise ModelError(f"the model server at {self.url} failed to answer with {model} ({_reason(err)})") from err
        return (reply.choices[0].message.content or "").strip()

    def generate_batch(
        self,
        conversations: list[list[dict[str, str]]],
        max_new_tokens: int,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> list[str]:
        """Many answers, asked together: the server batches the requests in flight."""
        model = self._model(tuned, adapter)
        with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="docent-remote") as pool:
            return list(pool.map(lambda m: self.complete(m, max_new_tokens, model), conversations))


def _send(ask: Callable[[], T]) -> T:
    """`ask()`, sent again (up to RESENDS times) only when the server never received it."""
    from openai import APIConnectionError

    for attempt in range(RESENDS):
        try:
            return ask()
        except APIConnectionError as err:
            if type(err.__cause__).__name__ not in ("ConnectError", "ConnectTimeout"):  # it may have reached it
                raise
        time.sleep(0.5 * 2**attempt)
    return ask()


def shown_url(url: str) -> str:
    """The URL without the user, password and query a server's address may carry, for messages and reports."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname or ""
    return urlunsplit((parts.scheme, f"{host}:{parts.port}" if parts.port else host, parts.path, "", ""))


def _reason(err: BaseException) -> str:
    """One line on what went wrong, whatever the client raised."""
    from openai import APIConnectionError, APIStatusError, APITimeoutError

    if isinstance(err, APITimeoutError):
        return "no answer in time"
    if isinstance(err, APIConnectionError):
        return "could not connect"
    if isinstance(err, APIStatusError):
        return f"HTTP {err.status_code}: {str(err.message)[:200]}"
    return f"{type(err).__name__}: {str(err)[:200]}"
