"""How long a tuning run will take on this machine, and what fits a time budget (`docent tune --time-budget`).

Before a run starts, a few training steps are timed (forward and backward on six seeded batches of the run's own
examples, after one untimed warm-up; no weight changes) and, when the run scores itself, a few held-out
questions are answered. The run's time follows from the tokens it will train and the questions it will answer.

With a budget, the run keeps every example and gives up epochs first: a later epoch goes over facts the model has
seen, while a smaller sample leaves facts out entirely. Only when one epoch of every example does not fit is a
seeded share of the examples trained, for one epoch: of the examples, not the pairs, since a `raft` example stands
for a fact whichever of its phrasings was drawn (59 % of the sample's pairs made 89 % of its examples, and the
demo's run took twice its plan). The choice is recorded in run.json ("plan"). The plan is a guess from a few
batches, so a run with a budget also watches the clock: when the time left would only pay for the last scoring,
training stops there, and that part-epoch is scored and kept like a whole one.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from transformers import TrainerCallback

MIN_EXAMPLES = 8  # one batch: below it, the budget is refused rather than met by a run that trains nothing


@dataclass
class Plan:
    train_s_per_epoch: float  # every example once, at the timed rate
    score_s_per_epoch: float  # tuned and both on the held-out questions, after each epoch
    baseline_s: float  # base and retrieval on the same questions, once (0 when an earlier run's answers are reused)
    epochs: float  # as asked, or as many as fit the budget
    share: float = 1.0  # of the training examples: a search's probe, or when one epoch of all of them does not fit
    budget_min: float = 0.0
    setup_s: float = 0.0  # spent before the plan: loading the model, building the examples, the timing itself

    @property
    def total_s(self) -> float:
        return (
            self.setup_s
            + self.baseline_s
            + self.epochs * (self.share * self.train_s_per_epoch + self.score_s_per_epoch)
        )

    def record(self) -> dict[str, Any]:  # six places: the examples a share stood for can be counted from it again
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()} | {
            "total_s": round(self.total_s, 1)
        }

    def describe(self) -> str:
        minutes = lambda s: f"{s / 60:.1f} min"  # noqa: E731
        epochs = f"{self.epochs:g} epoch{'s' if self.epochs != 1 else ''}"
        parts = [f"{epochs} × {minutes(self.share * self.train_s_per_epoch)} of training"]
        if self.score_s_per_epoch:
            parts.append(f"{minutes(self.score_s_per_epoch)} of held-out scoring after each")
        if self.baseline_s:
            parts.append(f"{minutes(self.baseline_s)} for base and retrieval first")
        if self.setup_s >= 30:
            parts.append(f"{minutes(self.setup_s)} of loading and timing already spent")
        text = f"Expected time on this machine: about {minutes(self.total_s)} ({', '.join(parts)})"
        if self.budget_min:
            kept = f"{self.share:.0%} of the examples" if self.share < 1 else "every example"
            text += f"; to fit {self.budget_min:g} min: {epochs} of {kept}"
        return text


def time_training(
    model: Any,
    examples: list[dict[str, list[int]]],
    collate: Callable[[list[dict[str, list[int]]]], dict[str, Any]],
    loss: Callable[[Any, dict[str, Any]], Any],
    batch_size: int,
    bf16: bool,
    seed: int,
    batches: int = 6,  # on 417 film examples: 2 batches guessed 18 % short of the epoch's 375 s, 6 batches 3 %
) -> float:
    """Seconds for one epoch over `examples`: forward and backward timed on seeded batches, per token, times the
    tokens of every example (batches grouped by length carry little padding)."""
    import torch

    from assistant.loader import training_autocast

    rng = random.Random(seed)
    drawn = [rng.sample(examples, min(batch_size, len(examples))) for _ in range(batches + 1)]
    seconds, tokens = 0.0, 0
    was_training = model.training
    model.train()
    try:
        for i, batch in enumerate(drawn):
            inputs = {k: v.to(model.device) for k, v in collate(batch).items()}
            start = time.perf_counter()
            with training_autocast(model, bf16):
                value = loss(model, inputs)
            value.backward()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            if i:  # the first batch warms up (allocations, kernels) and is not counted
                seconds += time.perf_counter() - start
                tokens += inputs["input_ids"].numel()
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return seconds / max(tokens, 1) * sum(len(e["input_ids"]) for e in examples)


def fit(plan: Plan, budget_min: float, examples: int) -> Plan:
    """The plan cut to `budget_min` minutes: whole epochs of its examples first, else one epoch of a share of them
    (never more than the share it already had)."""
    plan.budget_min = budget_min
    budget = budget_min * 60
    if plan.total_s <= budget:
        return plan
    per_epoch = plan.share * plan.train_s_per_epoch + plan.score_s_per_epoch
    room = budget - plan.baseline_s - plan.setup_s
    whole = math.floor(room / per_epoch) if per_epoch else 0
    if whole >= 1:
        plan.epochs = min(float(whole), plan.epochs)
        return plan
    share = (room - plan.score_s_per_epoch) / plan.train_s_per_epoch if plan.train_s_per_epoch else 0.0
    share = min(share, plan.share)
    if share * examples < min(MIN_EXAMPLES, examples):
        least = min(MIN_EXAMPLES, examples) / examples * plan.train_s_per_epoch
        smallest = plan.setup_s + plan.baseline_s + plan.score_s_per_epoch + least
        raise ValueError(
            f"--time-budget {budget_min:g} min is too short on this machine: one epoch of {MIN_EXAMPLES} examples "
            f"with its held-out scoring takes about {smallest / 60:.1f} min. Give more minutes, or fewer "
            "--score-questions."
        )
    plan.epochs, plan.share = 1.0, share
    return plan


def share_of(examples: list[Any], share: float, seed: int) -> list[Any]:
    """A seeded `share` of the examples, in their order (all of them when share is 1)."""
    if share >= 1:
        return examples
    kept = sorted(random.Random(seed).sample(range(len(examples)), max(1, int(len(examples) * share))))
    return [examples[i] for i in kept]


class Deadline(TrainerCallback):
    """Stops training once the budget, less the held-out scoring still to come, is spent (clock from `started`)."""

    def __init__(self, budget_min: float, score_s: float, started: float) -> None:
        self.budget_s, self.score_s, self.started = budget_min * 60, score_s, started
        self.reached_at: int | None = None  # the step at which the budget ran out

    def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        late = [
            time.perf_counter() - self.started + self.score_s > self.budget_s and state.global_step < state.max_steps
        ]
        if args.world_size > 1:  # every process stops at the same step
            from accelerate.utils import broadcast_object_list

            broadcast_object_list(late)
        if late[0]:
            self.reached_at = state.global_step
            control.should_training_stop = True
