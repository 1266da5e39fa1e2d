"""The answering LLM: loaded once, on the GPU in bf16 when there is one, streaming its tokens as they come.

With a fine-tuned run's LoRA adapter attached, the same loaded model answers every mode: the adapter is switched
off for `base` and `retrieval` (peft's `disable_adapter`) and on for `tuned` and `both`, so changing mode never
reloads anything."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ingest.models import ModelError, device, resolve_llm, torch_dtype


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


class Streams(Protocol):
    """Anything that streams an answer: the LLM itself, or the batcher that serves many people at once."""

    def stream(
        self, messages: list[dict[str, str]], max_new_tokens: int, timing: Timing, tuned: bool = False
    ) -> Iterator[str]: ...


class LLM:
    def __init__(self, name: str = "embedded", adapter: Path | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = name
        path = resolve_llm(name)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            kwargs = {"device_map": "auto"} if device() == "cuda" else {}
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype(), **kwargs).eval()
        except OSError as err:
            raise ModelError(f"cannot load the LLM {name!r}: {err}") from err
        if self.tokenizer.pad_token is None:  # generation pads with it and masks it; training picks its own
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if self.tokenizer.chat_template is None:
            raise ModelError(f"the LLM {name!r} has no chat template; Docent needs an instruction-tuned model")
        self.torch = torch
        self.lock = threading.Lock()  # one generation at a time per loaded model
        self.adapter: str | None = None
        if adapter is not None:
            self.attach(adapter)

    def attach(self, adapter: Path, name: str = "tuned") -> None:
        """Attach (or switch to) a LoRA adapter; the base weights stay loaded and untouched."""
        from peft import PeftModel

        with self.lock:
            if self.adapter is None:
                self.model = PeftModel.from_pretrained(self.model, str(adapter), adapter_name=name).eval()
            elif name not in self.model.peft_config:
                self.model.load_adapter(str(adapter), adapter_name=name)
            self.model.set_adapter(name)
            self.adapter = name

    def adapter_switch(self, tuned: bool) -> Any:
        """Context in which the model answers as asked: with the adapter for tuned modes, without it otherwise."""
        if tuned and self.adapter is None:
            raise ModelError("no fine-tuned adapter is loaded: run `docent tune` first")
        return self.model.disable_adapter() if self.adapter and not tuned else contextlib.nullcontext()

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

    def stream(
        self, messages: list[dict[str, str]], max_new_tokens: int, timing: Timing, tuned: bool = False
    ) -> Iterator[str]:
        """Yields the answer's text piece by piece, greedy; `timing` is filled as it goes. `tuned` answers with
        the attached adapter, otherwise with the base model alone."""
        from transformers import TextIteratorStreamer

        switch = self.adapter_switch(tuned)
        start = time.perf_counter()
        inputs = self.encode(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        counted: list[int] = []

        def run() -> None:
            with self.lock, self.torch.inference_mode(), switch:
                out = self.model.generate(
                    **inputs, max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer,
                    pad_token_id=self.tokenizer.pad_token_id,
                )  # fmt: skip
            counted.append(int(out.shape[1] - inputs["input_ids"].shape[1]))  # type: ignore[attr-defined]

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        for piece in streamer:
            if piece and not timing.first_token_s:
                timing.first_token_s = time.perf_counter() - start
            yield piece
        worker.join()
        timing.total_s = time.perf_counter() - start
        timing.tokens = counted[0] if counted else 0

    def generate_batch(
        self, conversations: list[list[dict[str, str]]], max_new_tokens: int, tuned: bool = False
    ) -> list[str]:
        """Greedy answers for many prompts at once: on a CPU, decoding is bound by reading the weights, so a
        batch of 16 costs little more than one answer."""
        switch = self.adapter_switch(tuned)
        encoded = self.encode_batch(conversations)
        with self.lock, self.torch.inference_mode(), switch:
            out = self.model.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id)  # fmt: skip
        new = out[:, encoded["input_ids"].shape[1] :]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int, tuned: bool = False) -> tuple[str, Timing]:
        timing = Timing()
        text = "".join(self.stream(messages, max_new_tokens, timing, tuned))
        return text.strip(), timing
