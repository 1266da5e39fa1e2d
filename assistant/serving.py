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

from assistant.answer import Answer, finish, holds, prepare, reread
from assistant.config import USES_ADAPTER, AnswerConfig
from assistant.generate import LLM, Timing
from assistant.retrieve import Retriever

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


class Cancelled:
    """A stopping criterion for `generate`: the rows whose asker went away stop at the next token, and the batch
    ends as soon as every row has stopped."""

    def __init__(self, batch: list[Request]):
        self.batch = batch

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.tensor([r.cancelled for r in self.batch], device=input_ids.device)


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


@dataclass
class Ask:
    """A whole question in one mode: searched, gated, answered and its support found on the batcher's thread."""

    question: str
    mode: str
    retriever: Retriever | None
    cfg: AnswerConfig
    adapter: str | None = None  # another attached run's adapter than the model's own, for tuned modes
    run: str | None = None  # the id of the run whose adapter answers: Docent.ask says
    pieces: queue.Queue[str | None] = field(default_factory=queue.Queue)
    error: list[BaseException] = field(default_factory=list)
    result: Answer | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """The asker went away (a client that disconnected): its row stops at the next token."""
        self.cancelled.set()

    def text(self) -> Iterator[str]:
        while (piece := self.pieces.get()) is not None:
            yield piece
        if self.error:
            raise self.error[0]

    def answer(self) -> Answer:
        if self.result is None:
            raise RuntimeError("the answer is whole only once its text has been read to the end")
        return self.result


@dataclass
class Request:
    """One generation in the batcher's queue; its text goes to `pieces` as it comes, then None."""

    messages: list[dict[str, str]]
    max_new_tokens: int
    tuned: bool
    adapter: str | None = None
    pieces: queue.Queue[str | None] = field(default_factory=queue.Queue)
    error: list[BaseException] = field(default_factory=list)
    timing: Timing = field(default_factory=Timing)
    start: float = field(default_factory=time.perf_counter)
    text: str = ""
    asked: Ask | None = None  # the question it answers, when the batcher answers a whole question
    answered: Answer | None = None  # that question's answer so far (sources, gate)
    held: bool = False  # its text goes to `pieces` once whole, and only if it stands (answer.reread)

    @property
    def model(self) -> tuple[bool, str | None]:
        """What answers it: requests answered by the same model share a batch."""
        return self.tuned, self.adapter if self.tuned else None

    @property
    def cancelled(self) -> bool:
        return self.asked is not None and self.asked.cancelled.is_set()

    def put(self, piece: str) -> None:
        self.text += piece
        if not self.held:
            self.timing.first_token_s = self.timing.first_token_s or time.perf_counter() - self.start
            self.pieces.put(piece)

    def release(self) -> None:
        """A held answer, whole and as it stands (cut where it began to repeat), to the asker; not when it failed
        or was dropped: the asker hears of the error. Its first text is then its whole answer."""
        answer = self.asked.result if self.held and self.asked is not None else None
        if answer is not None and not self.error:
            self.timing.first_token_s = self.timing.total_s = time.perf_counter() - self.start
            self.pieces.put(answer.text)


class Batcher:
    """Owns generation for one loaded LLM; `ask`, `stream` and `call` may be called from any number of threads.

    All the torch work of answering runs on the batcher's one thread, the searches and the support of an answer
    too: on a CPU, once a second thread has run PyTorch's OpenMP work, libgomp stops spinning between parallel
    regions, and decoding, made of many small ones, slowed to half speed here (see `LLM.stream`). A question asked
    through `ask` crosses to this thread once, and its text comes back through one queue."""

    def __init__(self, llm: LLM, max_batch: int = 8, wait_s: float = 0.05):
        self.llm, self.max_batch, self.wait_s = llm, max_batch, wait_s
        self.inbox: queue.Queue[Request | Ask | Call] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="docent-batcher")
        self.thread.start()

    def ask(
        self, question: str, mode: str, retriever: Retriever | None, cfg: AnswerConfig, adapter: str | None = None
    ) -> Ask:
        """One question in one mode, handed to the batcher's thread once: there it is searched and gated, joins a
        batch, and its answer's support is found. The Ask returned gives the answer's text as it comes (`text()`),
        the whole Answer once the text has been read to the end (`answer()`), and `cancel()`."""
        self.llm.check(mode in USES_ADAPTER, adapter)  # refused in the asking thread, before any model time
        job = Ask(question, mode, retriever, cfg, adapter)
        self.inbox.put(job)
        return job

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` run on the batcher's thread, between two batches; its result or its exception."""
        if threading.current_thread() is self.thread:
            return fn(*args)
        job = Call(fn, args)
        self.inbox.put(job)
        return job.future.result()

    def stream(
        self,
        messages: list[dict[str, str]],
        max_new_tokens: int,
        timing: Timing,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> Iterator[str]:
        self.llm.check(tuned, adapter)  # a tuned question without an adapter fails here, in the asking thread
        request = Request(messages, max_new_tokens, tuned, adapter, timing=timing)
        self.inbox.put(request)
        while (piece := request.pieces.get()) is not None:
            yield piece
        if request.error:
            raise request.error[0]

    def generate_batch(
        self,
        conversations: list[list[dict[str, str]]],
        max_new_tokens: int,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> list[str]:
        """Whole answers for many prompts, generated on the batcher's thread between two batches."""
        return self.call(self.llm.generate_batch, conversations, max_new_tokens, tuned, adapter)

    def _take(self, waiting: list[Request], block: bool) -> bool:
        try:
            item = self.inbox.get(block=block)
        except queue.Empty:
            return False
        if isinstance(item, Call):
            item.run()
        elif isinstance(item, Ask):
            self._prepare(item, waiting)
        else:
            waiting.append(item)
        return True

    def _prepare(self, job: Ask, waiting: list[Request]) -> None:
        """A question's search and gate; one the gate turns away is answered here, the others wait for a batch."""
        try:
            result, messages = prepare(job.question, job.mode, job.retriever, job.cfg)
        except BaseException as err:  # the asker hears of it; the loop goes on
            job.error.append(err)
            job.pieces.put(None)
            return
        if messages is None:
            job.result = result
            job.pieces.put(result.text)
            job.pieces.put(None)
            return
        tuned = job.mode in USES_ADAPTER
        waiting.append(
            Request(
                messages,
                job.cfg.max_new_tokens,
                tuned,
                job.adapter,
                job.pieces,
                timing=result.timing,
                asked=job,
                answered=result,
                held=holds(job.mode),
            )
        )

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
            waiting = [r for r in waiting if not self._dropped(r)]
            if not waiting:
                continue
            model = waiting[0].model
            batch = [r for r in waiting if r.model == model][: self.max_batch]
            waiting = [r for r in waiting if r not in batch]
            self._generate(batch)

    def _decode(self, batch: list[Request]) -> None:
        """The model's work for a batch: each request's text to its `put` as the tokens come."""
        llm = self.llm
        encoded = llm.encode_batch([r.messages for r in batch])
        listeners: list[Callable[[str], None]] = [r.put for r in batch]
        streamer = BatchStreamer(llm.tokenizer, listeners, [r.max_new_tokens for r in batch], llm.stop_ids())
        stops = llm.stop_looping(encoded["input_ids"].shape[1])
        stops.append(Cancelled(batch))
        with llm.answering(*batch[0].model) as model:
            model.generate(
                **encoded,
                max_new_tokens=max(r.max_new_tokens for r in batch),
                do_sample=False,
                stopping_criteria=stops,
                streamer=streamer,
                pad_token_id=llm.tokenizer.pad_token_id,
            )
        for request, tokens, mask in zip(batch, streamer.tokens, encoded["attention_mask"]):
            request.timing.tokens = len(tokens)
            request.timing.extra["prompt_tokens"] = int(mask.sum())

    @staticmethod
    def _dropped(request: Request) -> bool:
        """A request whose asker went away before its batch began: it never reaches the model."""
        if request.cancelled:
            request.pieces.put(None)
        return request.cancelled

    def _generate(self, batch: list[Request]) -> None:
        try:
            self._decode(batch)
        except BaseException as err:  # every waiting listener hears of it; the loop goes on
            for request in batch:
                request.error.append(err)
        for request in batch:
            request.timing.total_s = time.perf_counter() - request.start
            again = self._finish(request, request.asked) if request.asked is not None else None
            if again is not None:  # read again by the base model: its text and end go to the same asker
                self.inbox.put(again)
                continue
            request.release()
            request.pieces.put(None)

    def _finish(self, request: Request, job: Ask) -> Request | None:
        """The support of a question's answer, found on this thread before the asker hears the answer is whole;
        the request that reads its sources again with the base model when nothing supports a held answer."""
        job.error.extend(request.error)
        if request.error or request.answered is None or job.cancelled.is_set():
            return None
        try:
            job.result = finish(request.answered, request.text, job.retriever)
        except BaseException as err:
            job.error.append(err)
            return None
        again = reread(job.result) if request.held else None  # a reading again is not held: never read a third time
        if again is None:
            return None
        job.result = None
        return Request(
            request.messages,
            request.max_new_tokens,
            False,
            None,
            request.pieces,
            timing=again.timing,
            start=request.start,
            asked=job,
            answered=again,
        )
