"""Questions proposed by a language model, for users who have one bigger than the embedded 135M model.

The model only proposes: for a sentence and an answer span picked by the templates, it writes one natural
question. The text decides: a proposal is kept only if it is a question, does not give the answer away, and
shares words with its sentence; later the round-trip check drops it unless it retrieves its own chunk.
Two backends: a local Hugging Face model (`--generator-model`) or any OpenAI-compatible server
(`--generator-url`, e.g. vLLM or Ollama). The embedded SmolLM2-135M is not used by default: on the film
set its proposals were rarely about the right answer, which is why templates carry the load.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from typing import Any

from ingest.models import ModelError

PROMPT = """Write one question that the text answers with exactly "{answer}". The question must make sense \
on its own (name the subject, not "it"), must not contain the answer, and must be one line ending with "?".

Title: {title}
Text: {sentence}"""

STOPWORDS = {"the", "a", "an", "of", "in", "on", "at", "to", "for", "and", "or", "is", "are", "was", "were", "what",
             "which", "who", "when", "how", "does", "did", "do", "with", "by", "from", "that", "this"}  # fmt: skip

Proposer = Callable[[list[tuple[str, str, str]]], list[str | None]]  # [(title, sentence, answer)] -> questions


def valid(question: str, sentence: str, answer: str) -> bool:
    question = question.strip()
    if not question.endswith("?") or not 3 <= len(question.split()) <= 30 or "\n" in question:
        return False
    if answer.lower() in question.lower():
        return False
    words = {w for w in re.findall(r"\w+", question.lower()) if w not in STOPWORDS and len(w) > 2}
    return bool(words & set(re.findall(r"\w+", sentence.lower())))


def first_question(text: str) -> str:
    for line in text.strip().splitlines():
        line = line.strip().strip('"').removeprefix("Question:").strip()
        if line:
            return line
    return ""


def endpoint_proposer(url: str, model: str = "default", timeout: float = 60) -> Proposer:
    """Proposals from an OpenAI-compatible /chat/completions endpoint, one request per item."""

    def propose(items: list[tuple[str, str, str]]) -> list[str | None]:
        out: list[str | None] = []
        for title, sentence, answer in items:
            body = {
                "model": model,
                "messages": [{"role": "user", "content": PROMPT.format(title=title, sentence=sentence, answer=answer)}],
                "temperature": 0,
                "max_tokens": 64,
            }
            request = urllib.request.Request(
                url.rstrip("/") + "/chat/completions",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    reply = json.load(response)["choices"][0]["message"]["content"]
            except (OSError, ValueError, KeyError, IndexError) as err:
                raise ModelError(
                    f"the question generator at {url} did not answer ({err}); check --generator-url"
                ) from err
            question = first_question(reply)
            out.append(question if valid(question, sentence, answer) else None)
        return out

    return propose


def local_proposer(tokenizer: Any, model: Any, batch_size: int = 8) -> Proposer:
    """Proposals from a causal LM loaded in this process (by `assistant/loader.py`, which `docent ingest` passes in)
    through its own chat template, batched greedy decoding."""
    import torch

    from ingest.models import device

    tokenizer.padding_side = "left"
    model = model.to(device()).eval()

    def propose(items: list[tuple[str, str, str]]) -> list[str | None]:
        out: list[str | None] = []
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            prompts = [
                tokenizer.apply_chat_template(
                    [{"role": "user", "content": PROMPT.format(title=t, sentence=s, answer=a)}],
                    add_generation_prompt=True,
                    tokenize=False,
                )
                for t, s, a in batch
            ]
            encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.inference_mode():
                generated = model.generate(**encoded, max_new_tokens=48, do_sample=False)
            for (_, sentence, answer), ids in zip(batch, generated[:, encoded["input_ids"].shape[1] :], strict=True):
                question = first_question(str(tokenizer.decode(ids, skip_special_tokens=True)))
                out.append(question if valid(question, sentence, answer) else None)
        return out

    return propose
