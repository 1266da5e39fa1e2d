"""The answering LLM: loaded once, on the GPU in bf16 when there is one, in int8 on a CPU, streaming its tokens.

With a fine-tuned run's LoRA adapter attached, the same loaded model answers every mode: the adapter is switched
off for `base` and `retrieval` (peft's `disable_adapter`) and on for `tuned` and `both`, so changing mode never
reloads anything. An int8 model cannot carry a LoRA adapter, so there the adapter is merged into a float copy of
the base weights once, when it is attached, and that copy is quantised too: two small models, one per side.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.loader import load_model, load_tokenizer
from assistant.metrics import loop_start
from ingest.models import ModelError, device

if TYPE_CHECKING:
    from assistant.runs import Run


@dataclass
class Timing:
    first_token_s: float = 0.0
    total_s: float = 0.0
    tokens: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        decode = self.total_s - self.first_token_s
        return (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else 0.0


class Engine(Protocol):
    """What every answer goes through, whatever runs the model: the LLM in this process (`LLM`), the batcher that
    serves many people at once from it (`serving.Batcher`), or a client of a model server. `tuned` answers with the
    fine-tuned adapter, otherwise with the base model alone; both are greedy."""

    def stream(
        self,
        messages: list[dict[str, str]],
        max_new_tokens: int,
        timing: Timing,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> Iterator[str]:
        """One answer, piece by piece as it is generated; `timing` is filled as it goes. With `tuned`, `adapter`
        names another attached run's adapter than the engine's own (the API's `docent-both:<run>`)."""
        ...

    def generate_batch(
        self,
        conversations: list[list[dict[str, str]]],
        max_new_tokens: int,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> list[str]:
        """The whole answers of many prompts at once, in their order."""
        ...


MAX_ADAPTERS = 4  # attached to one loaded model at once (the API's docent-both:<run> can name any run)


class LLM:
    def __init__(self, name: str = "embedded", adapter: Path | None = None, loaded: tuple[Any, Any] | None = None):
        """`loaded`: a (model, tokenizer) already in memory, such as the peft model being trained, which then
        answers as it is (its adapter on for tuned modes, off for the others) instead of a model loaded here."""
        import torch

        from assistant import precision

        self.name = name
        self.precision = precision.choose()
        if loaded is not None:
            self.model, self.tokenizer = loaded
        else:
            self.tokenizer = load_tokenizer(name)
            self.model = self._load()
        self.torch = torch
        self.lock = threading.Lock()  # one generation at a time per loaded model
        self.adapter: str | None = getattr(self.model, "active_adapter", None) if loaded is not None else None
        self.attached: list[str] = [self.adapter] if self.adapter else []  # adapters that can answer, last used last
        self.merged: dict[str, Any] = {}  # int8 only: per adapter, the base with it merged in, quantised
        if adapter is not None:
            self.attach(adapter)

    def _load(self, adapter: Path | None = None) -> Any:
        import torch

        from assistant import precision

        dtype = torch.bfloat16 if self.precision == "bfloat16" else torch.float32
        kwargs = {"device_map": "auto"} if device() == "cuda" else {"attn_implementation": precision.ATTENTION}
        model = load_model(self.name, self.tokenizer, dtype, adapter, trainable=False, **kwargs).eval()
        return precision.quantize(model) if self.precision == "int8" else model

    def attach(self, adapter: Path, name: str = "tuned", default: bool = True) -> None:
        """Attach a LoRA adapter under `name` (once), and make it the one tuned modes answer with unless told
        otherwise (`default`); the base weights stay loaded and untouched."""
        from peft import PeftModel

        if name not in self.attached and self.precision == "int8":
            merged = self._load(adapter)
            with self.lock:
                self.merged[name] = merged
        elif name not in self.attached:
            with self.lock:
                if not self.attached and self.adapter is None:
                    self.model = PeftModel.from_pretrained(self.model, str(adapter), adapter_name=name).eval()
                else:
                    self.model.load_adapter(str(adapter), adapter_name=name)
        with self.lock:
            if name not in self.attached:
                self.attached.append(name)
            if default or self.adapter is None:
                self.adapter = name
            self._forget_unused()

    def _forget_unused(self) -> None:
        """Past MAX_ADAPTERS, the adapter used longest ago (never the default) is dropped: on int8 each one is a
        whole merged copy of the model, and a server asked for many runs' adapters would grow without end."""
        while len(self.attached) > MAX_ADAPTERS:
            old = next(n for n in self.attached if n != self.adapter)
            self.attached.remove(old)
            if old in self.merged:
                del self.merged[old]
            else:
                self.model.delete_adapter(old)

    def check(self, tuned: bool, adapter: str | None = None) -> None:
        if tuned and self.adapter is None:
            raise ModelError("no fine-tuned adapter is loaded: run `docent tune` first")
        if tuned and adapter is not None and adapter not in self.attached:
            raise ModelError(f"the adapter {adapter!r} is not attached to this model")

    @contextlib.contextmanager
    def answering(self, tuned: bool, adapter: str | None = None) -> Iterator[Any]:
        """The model that answers as asked, held for this generation alone: with the adapter (`adapter`, else the
        default one) for tuned modes, without any otherwise."""
        self.check(tuned, adapter)
        name = adapter or self.adapter
        with self.lock, self.torch.inference_mode():
            if tuned and name in self.attached:  # the most recently used goes last
                self.attached.remove(name)
                self.attached.append(name)
            if self.merged:
                yield self.merged[str(name)] if tuned else self.model
            elif tuned:
                if name != self.model.active_adapter:
                    self.model.set_adapter(name)
                yield self.model
            elif self.adapter:
                with self.model.disable_adapter():
                    yield self.model
            else:
                yield self.model

    def stop_ids(self) -> set[int]:
        ids = self.model.generation_config.eos_token_id
        found = ids if isinstance(ids, list) else [ids] if ids is not None else []
        return {*found, self.tokenizer.eos_token_id}

    def encode(self, messages: list[dict[str, str]]) -> dict[str, object]:
        encoded: Any = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        return {k: v.to(self.model.device) for k, v in encoded.items()}

    def encode_batch(self, conversations: list[list[dict[str, str]]]) -> dict[str, Any]:
        """Several prompts padded on the left, so that every answer starts at the same position."""
        texts = [
            self.tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in conversations
        ]
        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        try:
            encoded = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            self.tokenizer.padding_side = side
        return {k: v.to(self.model.device) for k, v in encoded.items()}

    def stop_looping(self, prompt_tokens: int) -> Any:
        """For `generate`: each row of a batch stops once its answer starts to loop ("The answer is: The answer
        is: …" until the token limit), instead of holding its batch to the end."""
        from transformers import StoppingCriteria, StoppingCriteriaList

        tokenizer, torch = self.tokenizer, self.torch

        class Loops(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                texts = tokenizer.batch_decode(input_ids[:, prompt_tokens:], skip_special_tokens=True)
                return torch.tensor([loop_start(t) is not None for t in texts], device=input_ids.device)

        return StoppingCriteriaList([Loops()])

    def stream(
        self,
        messages: list[dict[str, str]],
        max_new_tokens: int,
        timing: Timing,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> Iterator[str]:
        """Yields the answer's text piece by piece, greedy; `timing` is filled as it goes. `tuned` answers with
        the attached adapter (`adapter`, else the default one), otherwise with the base model alone.

        The tokens are decoded here, on the calling thread, one forward pass each over the model's cache, rather
        than by `generate` in a second thread: on a CPU, once two threads of a process have run PyTorch's OpenMP
        work, libgomp stops spinning between parallel regions and every small matmul waits to be woken, which
        halved the speed of decoding measured here (bench/answer_speed.py)."""
        self.check(tuned, adapter)
        start = time.perf_counter()
        inputs: Any = self.encode(messages)
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        timing.extra["prompt_tokens"] = ids.shape[1]
        stops, tokens, shown, cache = self.stop_ids(), list[int](), "", None
        with self.answering(tuned, adapter) as model:
            while len(tokens) < max_new_tokens:
                out = model(input_ids=ids, attention_mask=mask, cache=cache, use_cache=True, logits_to_keep=1)
                token = int(out.logits[0, -1].argmax())
                if token in stops:
                    break
                tokens.append(token)
                text = str(self.tokenizer.decode(tokens, skip_special_tokens=True))
                if len(text) > len(shown) and text.startswith(shown) and not text.endswith("\ufffd"):
                    timing.first_token_s = timing.first_token_s or time.perf_counter() - start
                    yield text[len(shown) :]  # a character cut in half (\ufffd) waits for its other bytes
                    shown = text
                if loop_start(text) is not None:  # with the repeats in, so the caller can cut them (metrics.unloop)
                    break
                cache, ids = out.cache, ids.new_tensor([[token]])
                mask = self.torch.cat([mask, mask.new_ones(1, 1)], dim=1)
        timing.total_s = time.perf_counter() - start
        timing.tokens = len(tokens)

    def generate_batch(
        self,
        conversations: list[list[dict[str, str]]],
        max_new_tokens: int,
        tuned: bool = False,
        adapter: str | None = None,
    ) -> list[str]:
        """Greedy answers for many prompts at once: on a CPU, decoding is bound by reading the weights, so a
        batch of 16 costs little more than one answer."""
        encoded = self.encode_batch(conversations)
        with self.answering(tuned, adapter) as model:
            out = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                stopping_criteria=self.stop_looping(encoded["input_ids"].shape[1]),
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new = out[:, encoded["input_ids"].shape[1] :]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int, tuned: bool = False) -> tuple[str, Timing]:
        timing = Timing()
        text = "".join(self.stream(messages, max_new_tokens, timing, tuned))
        return text.strip(), timing


def open_engine(
    llm: str = "embedded", run: Run | None = None, url: str = "", key: str | None = None, timeout_s: float | None = None
) -> Any:
    """The engine that answers: the OpenAI-compatible server at `url` when there is one (waiting up to `timeout_s`
    for an answer to begin), else `llm` loaded in this process. With `run`, its adapters are attached under the run's
    name, and its base model loads in place of `llm`."""
    if url:
        from assistant.remote import ServerLLM

        engine: Any = ServerLLM(url, key, timeout_s=timeout_s)
    else:
        engine = LLM(run.settings.llm if run else llm)
    if run is not None:
        attach_run(engine, run)
    return engine


def attach_run(engine: Any, run: Run, default: bool = True) -> None:
    """Attach the run's adapter (the engine's default for tuned modes when `default`), and its reader, which
    answers `both`, when it has one (`Run.adapters`)."""
    for i, (folder, name) in enumerate(run.adapters()):
        engine.attach(folder, name=name, default=default and i == 0)
