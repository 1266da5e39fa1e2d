"""The messages each answer mode sends to the model, rendered later by the model's own chat template."""

from __future__ import annotations

from assistant.retrieve import Source

SYSTEM = "You are a helpful assistant. Answer briefly."
DONT_KNOW = "I don't know."
RETRIEVAL_SYSTEM = (
    "You answer questions using only the numbered sources you are given. Answer briefly. "
    f'If the sources do not contain the answer, reply "{DONT_KNOW}"'
)


def base_messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def retrieval_messages(question: str, sources: list[Source]) -> list[dict[str, str]]:
    """The sources in reverse rank, the best next to the question: a small model leans on what it read last (on
    the film set, the embedded model's `contains` rose from 0.313 to 0.433 with three chunks, README)."""
    blocks = "\n\n".join(f"[{s.rank}] {s.context}\n{s.text}" for s in reversed(sources))
    user = f"Sources:\n{blocks}\n\nQuestion: {question}"
    return [{"role": "system", "content": RETRIEVAL_SYSTEM}, {"role": "user", "content": user}]
