"""`docent tune`: LoRA fine-tuning on the workspace's Q&A pairs, with transformers' Trainer.

    docent tune [--recipe mixed] [--epochs 3] [--learning-rate 2e-3] ...
    docent tune --resume RUN                    # go on from the run's last checkpoint
    accelerate launch -m assistant.cli tune     # several GPUs (one process each); same settings

setup -> train -> save:
- setup: training pairs -> examples of the recipe (`data.py`) -> token ids with answer-only labels; the base
  model on the GPU in bf16 when there is one, LoRA adapters (peft) on its linear layers;
- train: Trainer with dynamic padding, batches grouped by length, gradient accumulation, bf16 mixed precision
  where the hardware has it, the held-out loss each epoch, a checkpoint every `save_steps` updates and at
  Ctrl-C; logits are computed only where an answer token is trained (`AnswerOnlyTrainer`);
- score: each epoch, the adapter answers the workspace's held-out questions in `tuned` and `both` (`heldout.py`);
  the best epoch's adapter is the one kept, and training stops when more epochs stop helping;
- save: the adapter and run.json (settings, metrics, scores, the documents it was trained on) in
  WORKSPACE/runs/<id>.

The `staged` recipe is two such runs: closed-book epochs that put the facts in the adapter (not scored, never the
chat's adapter alone), then raft epochs from that adapter at a lower rate, which teach it to read a source.
"""

from __future__ import annotations

import dataclasses
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import Trainer, TrainerCallback

from assistant import budget, data, heldout, loader, runs
from assistant.config import TuneConfig
from assistant.loader import bf16_training, resolve_llm
from ingest import store
from ingest.records import Pair, Source
from ingest.store import Workspace


def answer_loss(model: Any, inputs: dict[str, Any], count: Any = None) -> tuple[Any, Any]:
    """The loss on the trained tokens, with logits asked for only at the positions that predict one.

    The language-model head (vocabulary x hidden) is a large share of a small model's compute, and most
    positions are prompt; their logits would be thrown away. Same loss as the default, less work."""
    inputs = dict(inputs)
    targets = inputs.pop("labels")[:, 1:]
    keep = (targets != data.IGNORE).any(dim=0).nonzero().squeeze(1)
    outputs = model(**inputs, logits_to_keep=keep)
    logits = outputs.logits.float()
    picked = targets[:, keep]
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), picked.reshape(-1), ignore_index=data.IGNORE, reduction="sum"
    )
    return loss / (count if count is not None else (picked != data.IGNORE).sum()), outputs


class AnswerOnlyTrainer(Trainer):
    """Trainer whose loss is `answer_loss`."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
        loss, outputs = answer_loss(model, inputs, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss


class PadCollator:
    """Pads each batch to its own longest example (padding to a fixed length wastes most of the compute)."""

    def __init__(self, pad_id: int, multiple: int = 1):
        self.pad_id, self.multiple = pad_id, multiple

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        longest = max(len(f["input_ids"]) for f in features)
        longest = -(-longest // self.multiple) * self.multiple
        ids = torch.full((len(features), longest), self.pad_id, dtype=torch.long)
        labels = torch.full((len(features), longest), data.IGNORE, dtype=torch.long)
        mask = torch.zeros((len(features), longest), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n] = torch.tensor(f["input_ids"])
            labels[i, :n] = torch.tensor(f["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


class Progress(TrainerCallback):
    """One progress bar with the loss, the held-out loss and the time left; the same figures go into the run's
    run.json every few seconds, for the web app to show while the run goes on in the background."""

    def __init__(self, enabled: bool, run: runs.Run | None = None):
        self.enabled, self.run, self.bar = enabled, run, None
        self.postfix: dict[str, str] = {}
        self.started, self.written = time.perf_counter(), 0.0
        self.losses: list[tuple[int, float]] = []
        self.first_step = 0

    def on_train_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        from tqdm import tqdm

        self.first_step, self.started = state.global_step, time.perf_counter()
        if self.enabled and state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="Tuning", unit="step")

    def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)
        self._record(state, force=False)

    def on_log(self, args, state, control, logs=None, **kwargs):  # type: ignore[no-untyped-def]
        if logs and "loss" in logs:
            self.losses.append((state.global_step, float(logs["loss"])))
        if self.bar is not None and logs:
            for key, label in (("loss", "loss"), ("eval_loss", "held-out loss")):
                if key in logs:
                    self.postfix[label] = f"{logs[key]:.3f}"
            self.bar.set_postfix(self.postfix)
        self._record(state, force=bool(logs and "eval_loss" in logs))

    def _record(self, state, force: bool) -> None:  # type: ignore[no-untyped-def]
        if (
            self.run is None
            or not state.is_world_process_zero
            or (time.perf_counter() - self.written < 3 and not force)
        ):
            return
        elapsed = time.perf_counter() - self.started
        done = max(state.global_step - self.first_step, 1)
        self.run.progress = {
            "step": state.global_step,
            "max_steps": state.max_steps,
            "elapsed_s": round(elapsed, 1),
            "remaining_s": round(elapsed / done * (state.max_steps - state.global_step), 1),
            "losses": self.losses[-500:],
            "heldout": [(h["epoch"], h["eval_loss"]) for h in state.log_history if "eval_loss" in h],
        }
        self.run.save()
        self.written = time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if self.bar is not None:
            self.bar.close()


class StopOnInterrupt(TrainerCallback):
    """The first Ctrl-C or SIGTERM (what a process supervisor or `kill` sends) ends training after the current step
    with a checkpoint; a second one stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nStopping after this step and saving a checkpoint (Ctrl-C again to stop now)…", flush=True)

    def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if self.requested:
            control.should_save = True
            control.should_training_stop = True


def tokenise(examples: list[data.Example], tokenizer: Any, eot: set[int], max_length: int) -> tuple[list, int]:
    """Token ids of every example that fits; the number that did not (reported, never cut short)."""
    out, too_long = [], 0
    for example in examples:
        encoded = (
            data.encode(tokenizer, example.messages, eot)
            if example.messages
            else data.encode_text(tokenizer, example.text)
        )
        if len(encoded["input_ids"]) > max_length:
            too_long += 1
            continue
        out.append(encoded)
    return out, too_long


def lora_targets(cfg: TuneConfig, model: Any) -> dict[str, Any]:
    """The LoRA config's layers: the modules named (or every linear one), in every layer or in the top `lora_layers`."""
    named = [t.strip() for t in cfg.target_modules.split(",")] if cfg.target_modules != "all-linear" else None
    if not cfg.lora_layers:
        return {"target_modules": named or "all-linear"}
    if named is None:  # peft takes a layer list only with module names: those of every linear module in the layers
        linear = (n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and ".layers." in n)
        named = sorted({n.rsplit(".", 1)[-1] for n in linear})
    layers = model.config.num_hidden_layers
    return {"target_modules": named, "layers_to_transform": list(range(layers - cfg.lora_layers, layers))}


def training_set(
    cfg: TuneConfig,
    pairs: list[Pair],
    search: Any,
    chunks: Callable[[list[int]], list[Source]],
    tokenizer: Any,
    eot: set[int],
) -> tuple[list, int]:
    """The recipe's examples from a seeded sample of `cfg.max_pairs` pairs (all when 0), and the plain text of the
    chunks their passage pairs train (`chunks` looks them up by id), tokenised."""
    if cfg.max_pairs and len(pairs) > cfg.max_pairs:
        pairs = sorted(random.Random(cfg.seed).sample(pairs, cfg.max_pairs), key=lambda p: p.id)
    examples = data.build(cfg.recipe, pairs, search, cfg.raft_k, cfg.raft_p, cfg.seed, cfg.raft_abstain)
    if cfg.plain_forms:  # only chunks already trained: a held-out document's text stays out of sight
        trained = sorted({p.chunk_id for p in pairs if p.template == "passage"})
        examples += data.plain_text(chunks(trained), cfg.plain_forms, cfg.seed)
    return tokenise(examples, tokenizer, eot, cfg.max_length)


def estimate(
    model: Any,
    train_set: list,
    collate: PadCollator,
    cfg: TuneConfig,
    bf16: bool,
    scorer: heldout.HeldOutScores | None,
    processes: int,
    began: float,
) -> budget.Plan:
    """The run's time from a few timed steps and answers (each process trains its share of the examples), and the
    time spent since it `began`."""
    loss = lambda model, inputs: answer_loss(model, inputs)[0]  # noqa: E731
    train_s = budget.time_training(model, train_set, collate, loss, cfg.batch_size, bf16, cfg.seed) / processes
    score_s = baseline_s = 0.0
    if scorer is not None:
        each = len(scorer.asked) * scorer.seconds_per_answer(model)
        score_s = (1 + len(heldout.READING_SCALES)) * each  # tuned, and both at each strength, each epoch
        baseline_s = 0.0 if scorer.earlier_baseline() else 2 * each  # base and retrieval
    return budget.Plan(train_s, score_s, baseline_s, cfg.epochs, setup_s=time.perf_counter() - began)


def check_tracker(name: str) -> None:
    """A clear sentence, before any model time, when the experiment tracker asked for is not installed."""
    import importlib.util

    packages = {"tensorboard": ("tensorboard", "tensorboardX"), "mlflow": ("mlflow",)}.get(name, ())
    if packages and not any(importlib.util.find_spec(p) for p in packages):
        raise ValueError(f"--report-to {name} needs the {packages[0]} package: pip install {packages[0]}")


# Of a staged run's time budget, the share for the closed-book epochs; the rest is for the raft ones.
KNOWLEDGE_SHARE = 0.8


def staged(cfg: TuneConfig, workspace: Path, progress: bool = True, resume: str | None = None) -> runs.Run:
    """Closed-book epochs at `cfg`'s settings learn the facts, then `read_epochs` of raft at `read_learning_rate`
    go on from that adapter and learn to read. The first run is kept but never answers alone; `resume` goes on with
    an interrupted first run, then reads."""
    if resume:
        first = tune(cfg, workspace, resume=resume, progress=progress, staged_as=cfg)
    else:
        knowledge = dataclasses.replace(
            cfg, recipe="closed-book", score_questions=0, start_from="", time_budget=cfg.time_budget * KNOWLEDGE_SHARE
        )
        first = tune(knowledge, workspace, progress=progress, staged_as=cfg)
    if first.status != "finished":
        return first
    spent = first.metrics.get("seconds", 0.0) / 60
    left = max(cfg.time_budget - spent, 1.0) if cfg.time_budget else 0.0
    reading = dataclasses.replace(
        cfg,
        recipe="raft",
        epochs=cfg.read_epochs,
        learning_rate=cfg.read_learning_rate,
        grad_accum=cfg.read_grad_accum,
        start_from=first.id,
        time_budget=left,
        plain_text="",  # the documents' text goes with the facts, into the first run
    )
    if progress:
        print(f"Facts learnt (run {first.id}); now {cfg.read_epochs:g} epoch(s) of reading sources.", flush=True)
    return tune(reading, workspace, progress=progress)


def tune(
    cfg: TuneConfig,
    workspace: Path,
    resume: str | None = None,
    progress: bool = True,
    probe: float = 0.0,
    staged_as: TuneConfig | None = None,
) -> runs.Run:
    """`probe`: the share of the examples that a short run of a settings search (`search.py`) trains; such a run is
    kept but is never the adapter the chat answers with, nor is the first run of a staged one (`staged_as`: the
    staged settings it belongs to)."""
    if cfg.recipe == "staged" and not resume:  # a resume takes its settings from the run
        if probe:
            raise ValueError("--search tries one recipe's settings: give --recipe closed-book, raft or mixed with it")
        return staged(cfg, workspace, progress)
    if resume and not staged_as:
        earlier = runs.find(workspace, resume)
        whole = earlier.staged_as
        if whole is not None:  # the first run of a staged one: it goes on, then the reading run
            if earlier.status == "finished":
                raise ValueError(
                    f"run {resume} is finished: it is the first part of a staged run, and the reading "
                    "run went on from it"
                )
            return staged(whole, workspace, progress, resume=resume)
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import TrainingArguments, set_seed
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    # setup
    began = time.perf_counter()  # a time budget counts from here: loading and timing are part of the wait
    state = PartialState(cpu=not torch.cuda.is_available())  # on CPUs, several processes train with gloo
    if cfg.lora_layers:  # before a run is made, as a wrong flag costs nothing
        from transformers import AutoConfig

        layers = AutoConfig.from_pretrained(resolve_llm(cfg.llm)).num_hidden_layers
        if cfg.lora_layers > layers:
            raise ValueError(
                f"lora_layers={cfg.lora_layers}, but the model has {layers} layers: give {layers} or fewer"
            )
    db = Workspace(workspace).connect()
    if resume:
        run = runs.find(workspace, resume)
        cfg = run.settings  # a run goes on with the settings it started with
        probe = float(run.config.get("probe", 0.0))
        staged_as = run.staged_as
    else:
        name = "staged-facts" if staged_as else "staged-reading" if cfg.start_from else cfg.recipe
        run = runs.new_run(workspace, f"{name}-probe" if probe else name)
        shared = [run.id]
        broadcast_object_list(shared)  # every process of a multi-GPU launch writes to the same run
        run = runs.Run(shared[0], runs.runs_root(workspace) / shared[0], created=run.created)
    check_tracker(cfg.report_to)
    within = runs.scope(db, cfg.collections)  # every text the adapter sees comes from these collections alone
    learnt = set(within.collections or ())
    pairs = store.pairs(db, within, "train")
    if not pairs:
        raise ValueError(f"{workspace} has no training pairs: run `docent ingest PATH` (with pairs) first")
    search, retriever = None, None
    asked = (
        heldout.questions(db, cfg.score_questions, cfg.seed, cfg.check_questions, within) if cfg.score_questions else []
    )
    if cfg.recipe != "closed-book" or asked:
        from assistant.retrieve import Retriever

        retriever = Retriever(workspace).within(within)
        search = lambda questions, k: retriever.search(questions, k=k)  # noqa: E731
    tokenizer, model = loader.load(cfg.llm)
    eot = loader.for_training(tokenizer, model)
    chunks = lambda ids: store.sources(db, ids, within)  # noqa: E731
    train_set, too_long = training_set(cfg, pairs, search, chunks, tokenizer, eot)
    eval_set, _ = tokenise(data.closed_book(store.pairs(db, within, "heldout")), tokenizer, eot, cfg.max_length)
    if not train_set:
        raise ValueError(f"every training example is longer than max_length={cfg.max_length}; raise --max-length")
    lora = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        task_type="CAUSAL_LM",
        **lora_targets(cfg, model),
    )
    if cfg.start_from:  # the earlier run's adapter trains on, with its rank and layers
        earlier = runs.find(workspace, cfg.start_from)
        if not earlier.adapter.exists():
            raise ValueError(
                f"run {cfg.start_from} has no adapter ({earlier.status}): name a finished run to go on from"
            )
        model = PeftModel.from_pretrained(model, str(earlier.adapter), is_trainable=True)  # on the resized base
        learnt |= runs.collections(earlier, db)  # what the earlier adapter learnt stays in this one
        kept: Any = model.peft_config["default"]
        cfg = dataclasses.replace(cfg, lora_r=kept.r, lora_alpha=kept.lora_alpha)
    else:
        set_seed(cfg.seed)  # the adapter's first weights come from the run's seed, not from what ran before it
        model = get_peft_model(model, lora)
    bf16 = bf16_training()
    collate = PadCollator(tokenizer.pad_token_id, 8 if torch.cuda.is_available() else 1)
    scorer = None
    if asked:
        scorer = heldout.HeldOutScores(
            asked,
            retriever,
            tokenizer,
            run,
            cfg.llm,
            cfg.patience,
            bf16,
            state.is_main_process,
            progress,
            cfg.check_questions,
        )
    plan = None
    if resume:  # a resumed run goes on with the epochs and the share of the examples it chose
        train_set = budget.share_of(train_set, (run.config.get("plan") or {}).get("share", 1.0), cfg.seed)
    else:
        shared_plan: list[budget.Plan | None] = [None]
        if state.is_main_process:
            timed = estimate(model, train_set, collate, cfg, bf16, scorer, state.num_processes, began)
            timed.share = probe or 1.0
            shared_plan[0] = budget.fit(timed, cfg.time_budget, len(train_set)) if cfg.time_budget else timed
        broadcast_object_list(shared_plan)
        plan = shared_plan[0]
        assert plan is not None
        cfg = dataclasses.replace(cfg, epochs=plan.epochs)
        train_set = budget.share_of(train_set, plan.share, cfg.seed)
        if progress and state.is_main_process:
            print(plan.describe(), flush=True)
    args = TrainingArguments(
        output_dir=str(run.checkpoints),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        num_train_epochs=cfg.epochs,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=0.05,
        weight_decay=0.0,
        bf16=bf16,
        train_sampling_strategy="group_by_length",
        eval_strategy="epoch" if eval_set else "no",
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        logging_steps=5,
        report_to=cfg.report_to,
        disable_tqdm=True,
        remove_unused_columns=False,
        prediction_loss_only=True,
        ddp_find_unused_parameters=False,  # every LoRA weight takes part in every step
        seed=cfg.seed,
        use_cpu=not torch.cuda.is_available(),
    )
    stopper = StopOnInterrupt()
    deadline = None
    if cfg.time_budget:
        deadline = budget.Deadline(cfg.time_budget, plan.score_s_per_epoch if plan is not None else 0.0, began)
    if scorer is not None:
        scorer.deadline = deadline
    trainer = AnswerOnlyTrainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set or None,
        data_collator=collate,
        callbacks=[Progress(progress, run), stopper, *[c for c in (deadline, scorer) if c is not None]],
    )
    for callback in trainer.callback_handler.callbacks:
        if type(callback).__name__ == "TensorBoardCallback":  # Trainer's own integration, into the run's folder
            callback.logging_dir = str(run.folder / "tensorboard")  # type: ignore[attr-defined]
    if scorer is not None:
        scorer.log = trainer.log
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    answer_tokens = sum(sum(1 for t in e["labels"] if t != data.IGNORE) for e in train_set)
    if state.is_main_process:
        run.config = {
            "tune": dataclasses.asdict(cfg),
            "base_model": resolve_llm(cfg.llm),
            "bf16": args.bf16,
            "plan": plan.record() if plan is not None else run.config.get("plan"),
            **({"probe": probe} if probe else {}),
            **({"staged": dataclasses.asdict(staged_as)} if staged_as else {}),
            "collections": sorted(learnt),  # who may answer with it: those who may read every one of them
        }
        run.snapshot = runs.snapshot(db, within)
        run.status = "running"
        run.claim()
        run.save()
        if progress:
            print(
                f"Run {run.id}: {len(train_set)} examples ({too_long} longer than {cfg.max_length} tokens left "
                f"out), {answer_tokens} answer tokens an epoch, {len(eval_set)} held-out questions",
                flush=True,
            )

    # train
    checkpoint = run.last_checkpoint() if resume else None
    previous = {sig: signal.signal(sig, stopper.handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    start = time.perf_counter()
    try:
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except BaseException:
        if state.is_main_process:
            run.finish(run.stopped())
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    # save: every process knows the outcome, the main one writes it
    history = trainer.state.log_history
    run.metrics = {
        "examples": len(train_set),
        "too_long": too_long,
        "answer_tokens_per_epoch": answer_tokens,
        "heldout_questions": len(eval_set),
        "steps": trainer.state.global_step,
        "seconds": round(time.perf_counter() - start, 1),
        "train_loss": result.training_loss,
        "loss_curve": [(h["step"], h["loss"]) for h in history if "loss" in h],
        "heldout_loss": [(h["epoch"], h["eval_loss"]) for h in history if "eval_loss" in h],
        **({"scores": scorer.scores} if scorer is not None else {}),
        **({"budget_reached_at_step": deadline.reached_at} if deadline and deadline.reached_at is not None else {}),
    }
    run.status = "interrupted" if stopper.requested else "finished"
    if state.is_main_process:
        if run.status == "finished" and not (scorer is not None and scorer.scores["epochs"]):
            model.save_pretrained(str(run.adapter))  # scored runs saved their best epoch's adapter already
            tokenizer.save_pretrained(str(run.adapter))  # the padding choice goes with the adapter
        run.finish(run.status)
    return run
