"""Many people asking at once: their questions are answered together, in one batch, each answer still streamed.

On a CPU (and a GPU) a decoding step reads every weight of the model once whatever the batch size, so eight
answers generated together cost little more than one. The batcher collects the questions that arrive while
the model is busy (and for `wait_s` after a question comes to an idle model), groups those that need the same
adapter setting, and generates them in one `generate` call; a streamer hands every row's new text to its own
listener as the tokens come. `bench/concurrent_chat.py` measures it against answering one after another.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from assistant.generate import LLM, Timing

T = TypeVar("T")


class BatchStreamer:
    """A transformers streamer for a batch: each step's new token of every row goes to that row's listener."""

    def __init__(self, tokenizer: Any, listeners: list[Callable[[str], None]], limits: list[int], stop: set[int]):
        self.tokenizer, self.listeners, self.limits, self.stop = tokenizer, listeners, limits, stop
        self.tokens: list[list[int]] = [[] for _ in listeners]
        self.shown = [0] * len(listeners)
        self.done = [False] * len(listeners)
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # generate() first puts the prompt
            self.prompt_seen = True
            return
        for row, token in enumerate(value.reshape(len(self.listeners), -1)[:, -1].tolist()):
            if self.done[row]:
                continue
            if token in self.stop or len(self.tokens[row]) >= self.limits[row]:
                self.done[row] = True
                continue
            self.tokens[row].append(token)
            text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
            if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
                continue
            if len(text) > self.shown[row]:
                self.listeners[row](text[self.shown[row] :])
                self.shown[row] = len(text)

    def end(self) -> None:
        self.done = [True] * len(self.listeners)


@dataclass
class Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: Future[Any] = field(default_factory=Future)

    def run(self) -> None:
        try:
            self.future.set_result(self.fn(*self.args))
        except BaseException as err:  # the caller gets it, the loop goes on
            self.future.set_exception(err)


class Searches:
    """A retriever whose searches, and its embedder's work (finding what supports an answer), run on the
    batcher's thread."""

    def __init__(self, retriever: Any, batcher: Batcher):
        self.retriever, self.batcher = retriever, batcher
        self.embedder = Encodes(retriever.embedder, batcher)
        self.words = retriever.words

    def timed_search(self, *args: Any) -> Any:
        return self.batcher.call(self.retriever.timed_search, *args)


@dataclass
class Encodes:
    embedder: Any
    batcher: Batcher

    def encode(self, texts: list[str]) -> Any:
        return self.batcher.call(self.embedder.encode, texts)


@dataclass
class Request:
    messages: list[dict[str, str]]
    max_new_tokens: int
    tuned: bool
    pieces: queue.Queue[str | None] = field(default_factory=queue.Queue)
    error: list[BaseException] = field(default_factory=list)
    tokens: int = 0


class Batcher:
    """Owns generation for one loaded LLM; `stream` and `call` may be called from any number of threads at once.

    All the torch work of answering runs on the batcher's one thread, the searches too (`call`): on a CPU, once a
    second thread has run PyTorch's OpenMP work, libgomp stops spinning between parallel regions, and decoding,
    made of many small ones, slowed to half speed here (see `LLM.stream`)."""

    def __init__(self, llm: LLM, max_batch: int = 8, wait_s: float = 0.05):
        self.llm, self.max_batch, self.wait_s = llm, max_batch, wait_s
        self.inbox: queue.Queue[Request | Call] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="docent-batcher")
        self.thread.start()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` run on the batcher's thread, between two batches; its result or its exception."""
        if threading.current_thread() is self.thread:
            return fn(*args)
        job = Call(fn, args)
        self.inbox.put(job)
        return job.future.result()

    def stream(
        self, messages: list[dict[str, str]], max_new_tokens: int, timing: Timing, tuned: bool = False
    ) -> Iterator[str]:
        self.llm.check(tuned)  # a tuned question without an adapter fails here, in the asking thread
        request = Request(messages, max_new_tokens, tuned)
        start = time.perf_counter()
        self.inbox.put(request)
        while (piece := request.pieces.get()) is not None:
            if not timing.first_token_s:
                timing.first_token_s = time.perf_counter() - start
            yield piece
        timing.total_s = time.perf_counter() - start
        timing.tokens = request.tokens
        if request.error:
            raise request.error[0]

    def generate_batch(
        self, conversations: list[list[dict[str, str]]], max_new_tokens: int, tuned: bool = False
    ) -> list[str]:
        """Whole answers for many prompts, generated on the batcher's thread between two batches."""
        return self.call(self.llm.generate_batch, conversations, max_new_tokens, tuned)

    def _take(self, waiting: list[Request], block: bool) -> bool:
        try:
            item = self.inbox.get(block=block)
        except queue.Empty:
            return False
        if isinstance(item, Call):
            item.run()
        else:
            waiting.append(item)
        return True

    def _loop(self) -> None:
        waiting: list[Request] = []
        while True:
            if not waiting:
                self._take(waiting, block=True)
                if not waiting:
                    continue
                time.sleep(self.wait_s)  # let the questions asked at the same moment join this batch
            while self._take(waiting, block=False):
                pass
            tuned = waiting[0].tuned
            batch = [r for r in waiting if r.tuned == tuned][: self.max_batch]
            waiting = [r for r in waiting if r not in batch]
            self._generate(batch)

    def _generate(self, batch: list[Request]) -> None:
        llm = self.llm
        try:
            encoded = llm.encode_batch([r.messages for r in batch])
            listeners: list[Callable[[str], None]] = [r.pieces.put for r in batch]
            streamer = BatchStreamer(llm.tokenizer, listeners, [r.max_new_tokens for r in batch], llm.stop_ids())
            with llm.answering(batch[0].tuned) as model:
                model.generate(**encoded, max_new_tokens=max(r.max_new_tokens for r in batch), do_sample=False,
                               stopping_criteria=llm.stop_looping(encoded["input_ids"].shape[1]),
                               streamer=streamer, pad_token_id=llm.tokenizer.pad_token_id)  # fmt: skip
            for request, tokens in zip(batch, streamer.tokens):
                request.tokens = len(tokens)
        except BaseException as err:  # every waiting listener hears of it; the loop goes on
            for request in batch:
                request.error.append(err)
        finally:
            for request in batch:
                request.pieces.put(None)
