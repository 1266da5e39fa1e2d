"""The answering LLM: loaded once, on the GPU in bf16 when there is one, streaming its tokens as they come."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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


class LLM:
    def __init__(self, name: str = "embedded"):
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
        if self.tokenizer.chat_template is None:
            raise ModelError(f"the LLM {name!r} has no chat template; Docent needs an instruction-tuned model")
        self.torch = torch
        self.lock = threading.Lock()  # one generation at a time per loaded model

    def encode(self, messages: list[dict[str, str]]) -> dict[str, object]:
        encoded: Any = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        return {k: v.to(self.model.device) for k, v in encoded.items()}

    def stream(self, messages: list[dict[str, str]], max_new_tokens: int, timing: Timing) -> Iterator[str]:
        """Yields the answer's text piece by piece, greedy; `timing` is filled as it goes."""
        from transformers import TextIteratorStreamer

        start = time.perf_counter()
        inputs = self.encode(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        counted: list[int] = []

        def run() -> None:
            with self.lock, self.torch.inference_mode():
                out = self.model.generate(
                    **inputs, max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer,
                    pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
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

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int) -> tuple[str, Timing]:
        timing = Timing()
        text = "".join(self.stream(messages, max_new_tokens, timing))
        return text.strip(), timing
