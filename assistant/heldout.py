"""The adapter checked on the workspace's own held-out questions while it trains.

Each epoch the model being trained answers a seeded sample of the held-out questions (never trained on) in the
`tuned` and `both` modes; `base` and `retrieval` answer the same questions once, before training starts. The
run keeps the adapter of its best epoch by `both` (`contains`, then F1), not the last; training stops once
`patience` epochs in a row did not beat it; and the run says in a sentence whether tuning helped. The chat's
default mode is the mode that measured best. Settings chosen on one corpus can over-train the reader on
another, so the choice is made on the user's own documents, every run.

An adapter that has learnt many facts answers from memory even with the source in front of it, and on a fact it
did not learn, that answer is wrong. At part of its strength it reads its source again and keeps the short answers
it learnt: on the film set, the adapter of three epochs at 2e-3 answered `both` 0.540 at full strength and 0.627 at
half (0.570 at a quarter), while `tuned` keeps its full strength. So `both` is also scored at each of
READING_SCALES, and when a lesser strength reads best, the best epoch's adapter is written again at that strength
as the run's reader (`Run.reader`), which answers `both`.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from assistant import evaluate, runs
from assistant.config import MODES, AnswerConfig
from assistant.generate import LLM
from assistant.loader import training_autocast
from assistant.runs import best_epoch, rank
from ingest.records import OWNER, Access

SCORED = ("contains", "f1")
READING_SCALES = (1.0, 0.5)  # the adapter's strengths `both` is scored at; film figures in the docstring


@contextlib.contextmanager
def strength(model: Any, scale: float) -> Iterator[None]:
    """The LoRA adapter of `model` at `scale` of its strength, for the time inside."""
    from peft.tuners.lora import LoraLayer

    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    for layer in layers:
        layer.scale_layer(scale)
    try:
        yield
    finally:
        for layer in layers:
            layer.unscale_layer(scale)


def write_reader(adapter: Path, reader: Path, scale: float) -> None:
    """The adapter at `scale` of its strength, as an adapter folder of its own (its B matrices scaled), so that every
    engine (in this process, merged into int8, or vLLM) loads it as any adapter."""
    from safetensors.torch import load_file, save_file

    staging = reader.with_name(reader.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(adapter, staging)
    weights = load_file(str(staging / "adapter_model.safetensors"))
    scaled = {k: v * scale if "lora_B" in k else v for k, v in weights.items()}
    save_file(scaled, str(staging / "adapter_model.safetensors"), metadata={"format": "pt"})
    shutil.rmtree(reader, ignore_errors=True)
    staging.rename(reader)


def questions(db: Any, limit: int, seed: int, path: str = "", within: Access = OWNER) -> list[evaluate.Question]:
    """A seeded sample of the held-out questions (on trained documents and on documents kept out) of the collections
    `within`, or of the questions in the JSONL file `path` (`--check-questions`): worded by the user's people, not by
    Docent's templates that the adapter learnt, they judge it fairly."""
    asked = evaluate.file_questions(Path(path)) if path else evaluate.workspace_questions(db, None, within)
    return evaluate.sample(asked, limit, seed)


class HeldOutScores(TrainerCallback):
    """Scores each epoch, keeps the best epoch's adapter in the run, and stops when more epochs stop helping."""

    def __init__(
        self,
        asked: list[evaluate.Question],
        retriever: Any,
        tokenizer: Any,
        run: runs.Run,
        llm: str,
        patience: int,
        bf16: bool,
        main: bool,
        progress: bool,
        source: str = "",
    ) -> None:
        self.asked, self.retriever, self.tokenizer, self.run, self.llm = asked, retriever, tokenizer, run, llm
        self.patience, self.bf16, self.main, self.progress = patience, bf16, main, progress
        # As the chat answers, but at most 64 tokens: the held-out answers are a name, a date, a number, and the
        # base model's rambling to 160 tokens made scoring the base and retrieval modes cost five minutes here.
        self.cfg = AnswerConfig(llm=llm, max_new_tokens=64)
        asked_as = {
            "llm": llm,
            "index": getattr(retriever, "generation", None),
            "cfg": asdict(self.cfg),
            "questions": [q.question for q in asked],
        }
        self.key = evaluate.settings_key(asked_as)
        self.scores: dict[str, Any] = run.metrics.get("scores") or {"questions": len(asked), "epochs": []}
        self.scores["key"] = self.key
        if source:  # the file the questions came from, named in the verdict
            self.scores["source"] = Path(source).name
        self.stale = 0
        self.deadline: Any = None  # budget.Deadline of a run with a time budget
        self.log: Any = None  # Trainer.log, once there is a trainer: the scores go to TensorBoard or MLflow too

    @contextlib.contextmanager
    def _answering(self, model: Any) -> Iterator[LLM]:
        was_training = model.training
        model.eval()
        try:
            with training_autocast(model, self.bf16):
                yield LLM(self.llm, loaded=(model, self.tokenizer))
        finally:
            model.train(was_training)

    def _score(self, model: Any, modes: tuple[str, ...]) -> dict[str, Any]:
        out = {}
        self.run.progress["scoring"] = list(modes)  # the web app's Tune page says what the run is doing
        self.run.save()
        try:
            with self._answering(model) as llm:
                for mode in modes:
                    results = evaluate.answer_all(
                        self.asked, mode, llm, self.retriever, self.cfg, progress=self.progress
                    )
                    summary = evaluate.summarise(results, seed=0)
                    out[mode] = {k: summary[k] for k in SCORED} | {"intervals": summary["intervals"]}
        finally:
            self.run.progress.pop("scoring", None)
        return out

    def seconds_per_answer(self, model: Any, n: int = 16) -> float:
        """Time one batch of held-out questions answered from their sources (the longest answers of the modes
        scored), for the run's time estimate, after one untimed answer (the first pays for warming up): a batch of
        the size scoring answers (answer_all's 16), as a smaller one costs more an answer (8 took 1.3 s each on the
        2-core machine where scoring 40 in batches of 16 took 0.8 s each)."""
        import time

        with self._answering(model) as llm:
            evaluate.answer_all(self.asked[:1], "retrieval", llm, self.retriever, self.cfg, progress=False)  # warm-up
            start = time.perf_counter()
            evaluate.answer_all(self.asked[:n], "retrieval", llm, self.retriever, self.cfg, progress=False)
        return (time.perf_counter() - start) / max(min(n, len(self.asked)), 1)

    def earlier_baseline(self) -> dict[str, Any] | None:
        """Base and retrieval as an earlier run on the same questions, model and index scored them."""
        workspace = self.run.folder.parent.parent
        scored = [r.metrics.get("scores", {}) for r in runs.all_runs(workspace)]
        earlier = [s for s in scored if s.get("key") == self.key and "baseline" in s]
        return earlier[-1]["baseline"] if earlier else None

    def on_train_begin(self, args, state, control, model=None, **kwargs):  # type: ignore[no-untyped-def]
        if self.main and "baseline" not in self.scores:  # a resumed run keeps the scores it had
            earlier = self.earlier_baseline()
            if earlier:  # the same questions, model and index: base and retrieval answer as they did then
                self.scores["baseline"] = earlier
            else:
                if self.progress:
                    print(f"Scoring base and retrieval on {len(self.asked)} questions…", flush=True)
                self.scores["baseline"] = self._score(model, ("base", "retrieval"))
            self._save()
            self._log(self.scores["baseline"])

    def on_epoch_end(self, args, state, control, model=None, **kwargs):  # type: ignore[no-untyped-def]
        epoch = float(state.epoch or 0)
        cut = abs(epoch - round(epoch)) > 1e-6 and state.global_step < state.max_steps
        if cut and (self.deadline is None or self.deadline.reached_at is None):
            return  # an epoch cut short by Ctrl-C or SIGTERM: stop at once, unscored (one cut by the budget counts)
        stop = [False]
        if self.main:
            before = best_epoch(self.scores)
            scored = {"epoch": round(epoch, 2), "step": state.global_step, **self._score(model, ("tuned", "both"))}
            scored["reading"] = {"1.0": scored["both"]}
            for scale in READING_SCALES[1:]:
                with strength(model, scale):
                    scored["reading"][str(scale)] = self._score(model, ("both",))["both"]
            best_scale = max(scored["reading"], key=lambda s: (rank(scored["reading"][s]), float(s)))
            scored["both"], scored["reading_scale"] = scored["reading"][best_scale], float(best_scale)
            self.scores["epochs"].append(scored)
            self._log(scored)
            if before is None or rank(scored["both"]) > rank(before["both"]):
                model.save_pretrained(str(self.run.adapter))  # the run's adapter is its best epoch's
                self.tokenizer.save_pretrained(str(self.run.adapter))
                if scored["reading_scale"] < 1:
                    write_reader(self.run.adapter, self.run.reader, scored["reading_scale"])
                else:
                    shutil.rmtree(self.run.reader, ignore_errors=True)
                self.stale = 0
            else:
                self.stale += 1
            stop[0] = self.stale >= self.patience
            self._save()
            if self.progress:
                both, tuned = scored["both"], scored["tuned"]
                ended = "; no better than the best epoch, so training stops" if stop[0] else ""
                scale = scored["reading_scale"]
                at = f" (at {scale:g} of the adapter's strength)" if scale < 1 else ""
                print(
                    f"Epoch {scored['epoch']:g} on held-out questions: both {both['contains']:.3f}{at}, tuned "
                    f"{tuned['contains']:.3f}{ended}",
                    flush=True,
                )
        if args.world_size > 1:  # every process stops together
            from accelerate.utils import broadcast_object_list

            broadcast_object_list(stop)
        if stop[0]:
            control.should_training_stop = True

    def _log(self, scored: dict[str, Any]) -> None:
        if self.log is not None:
            self.log({f"heldout/{mode}_{k}": scored[mode][k] for mode in MODES if mode in scored for k in SCORED})

    def _save(self) -> None:
        self.run.metrics["scores"] = self.scores
        self.run.save()
