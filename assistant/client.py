"""The web app as a client of a running `docent serve` (`docent ui --api URL`): its pages hold no model, so many copies
of the web app can run beside one API, sharing the workspace folder for documents, runs and evaluations.

A question goes to /v1/chat/completions as a conversation, streamed; the last event carries the whole Answer
(sources, support, timing) in its `docent` field, from which the page shows what it shows for an answer made here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from assistant.answer import Answer
from assistant.config import MODEL_PREFIX as PREFIX
from ingest.models import ModelError


class ApiAsking:
    """One question on its way through the API, with the face of serving.Ask: text(), answer(), cancel()."""

    def __init__(self, client: Any, model: str, messages: list[dict[str, str]], max_tokens: int, user: str = ""):
        self.client, self.model, self.messages, self.max_tokens = client, model, messages, max_tokens
        self.user = user  # the person the web app signed in, whom the API answers as
        self.result: Answer | None = None
        self.run: str | None = None  # the run whose adapter answered, as the API says with the answer
        self.cancelled = False

    def text(self) -> Iterator[str]:
        from openai import APIConnectionError, APIError, APIStatusError

        try:
            stream = self.client.chat.completions.create(
                model=self.model,
                messages=self.messages,
                max_tokens=self.max_tokens,
                stream=True,
                extra_headers=acting_as(self.user),
            )
            with stream:
                for chunk in stream:
                    if self.cancelled:
                        return
                    extra = (chunk.model_extra or {}).get("docent")
                    if extra is not None:
                        self.result, self.run = Answer.from_json(extra), extra.get("run")
                    for choice in chunk.choices:
                        if choice.delta.content:
                            yield choice.delta.content
        except APIConnectionError as err:
            raise ModelError(f"the Docent API at {self.client.base_url} did not answer ({err})") from err
        except APIError as err:  # the API's own sentence, before or in the stream: a question too long, no run
            message = err.body.get("message") if isinstance(err.body, dict) else None
            raise (ModelError if isinstance(err, APIStatusError) and err.status_code >= 500 else ValueError)(
                str(message or err.message)
            ) from err

    def answer(self) -> Answer:
        if self.result is None:
            raise RuntimeError("the answer is whole only once its text has been read to the end")
        return self.result

    def cancel(self) -> None:
        self.cancelled = True


class DocentApi:
    """What the web app asks of a `docent serve`: which modes answer, and the answers."""

    def __init__(self, url: str, key: str | None = None):
        from openai import OpenAI

        key = key or os.environ.get("DOCENT_API_KEY") or "none"
        self.client = OpenAI(base_url=url.rstrip("/"), api_key=key, timeout=600, max_retries=1)

    def modes(self, user: str = "") -> list[str]:
        """The modes that answer `user` ('' = as the key's own person or owner)."""
        from openai import OpenAIError

        try:
            listed = [m.id for m in self.client.models.list(extra_headers=acting_as(user))]
        except OpenAIError as err:
            raise ModelError(f"the Docent API at {self.client.base_url} did not answer ({err})") from err
        return [m.removeprefix(PREFIX) for m in listed if ":" not in m]

    def ask(
        self,
        question: str,
        mode: str,
        history: list[tuple[str, str]],
        max_tokens: int,
        run: str | None = None,
        user: str = "",
    ) -> ApiAsking:
        messages = [
            {"role": role, "content": said} for turn in history for role, said in zip(("user", "assistant"), turn)
        ]
        messages.append({"role": "user", "content": question})
        return ApiAsking(self.client, PREFIX + mode + (f":{run}" if run else ""), messages, max_tokens, user)


def acting_as(user: str) -> dict[str, str]:
    """The header that asks the API to answer as `user` (api.ACTING_AS); none for ''."""
    return {"X-Docent-User": user} if user else {}
