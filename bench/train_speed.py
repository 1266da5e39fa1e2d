"""Training throughput: Docent's LoRA training beside the course-style baseline, on the same pairs, in one process.

    python bench/train_speed.py [--pairs 384] [--steps 12] [--rounds 2]

Both train the embedded SmolLM2-135M with the same LoRA settings and batch size on the same closed-book
examples (a seeded sample of the sample corpus's training pairs, passage pairs included), through transformers'
Trainer:
- baseline, as course notebooks do it: every example padded to the longest one, labels = input_ids (so the
  prompt and the padding are trained too), pad token = EOS, float32;
- the same baseline in bf16 mixed precision, to show how much of the gain is precision alone;
- Docent: dynamic padding, batches grouped by length, loss on answer tokens only with logits computed only
  there, bf16 mixed precision where the hardware has it, no dropout on the LoRA input (the default);
- Docent with dropout 0.05 on the LoRA input, the default until it was measured here: drawing the dropout mask
  for every LoRA layer's input is a large share of a CPU step;
- Docent with adapters in the top 15 layers only (`--lora-layers 15`): the backward pass stops at the lowest
  adapted layer.
The useful work is the answer tokens (answers and their end-of-turn token); the figure is answer tokens per
second of training, the three alternated in one process over `--rounds` rounds. Peak memory is measured
apart, each training in a fresh process of its own (peak resident memory on a CPU, peak allocated memory on
CUDA), since memory a process has once taken is not given back and would blur the later runs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import Trainer, TrainingArguments, default_data_collator

from assistant import data
from assistant.config import TuneConfig
from assistant.loader import bf16_training, end_of_turn_ids, ensure_pad_token, load
from assistant.tune import AnswerOnlyTrainer, PadCollator, lora_targets, tokenise
from ingest import store
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.records import OWNER
from ingest.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
LAYERS = 15  # `--lora-layers 15`: adapters in the top half of SmolLM2-135M's 30 layers


def lora_model(dropout: float = 0.05, layers: int = 0):  # type: ignore[no-untyped-def]
    from peft import LoraConfig, get_peft_model

    tokenizer, model = load("embedded")
    where = lora_targets(TuneConfig(lora_layers=layers), model)
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=dropout, task_type="CAUSAL_LM", **where)
    return tokenizer, get_peft_model(model, lora)


def arguments(folder: str, steps: int, bf16: bool, grouped: bool) -> TrainingArguments:
    return TrainingArguments(
        output_dir=folder,
        per_device_train_batch_size=8,
        max_steps=steps,
        learning_rate=1e-3,
        bf16=bf16,
        train_sampling_strategy="group_by_length" if grouped else "random",
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        logging_steps=1000,
        remove_unused_columns=False,
        use_cpu=not torch.cuda.is_available(),
        seed=0,
    )


def baseline(examples: list[data.Example], steps: int, bf16: bool, folder: str) -> tuple[Trainer, int]:
    tokenizer, model = lora_model()
    tokenizer.pad_token = tokenizer.eos_token  # the course-style choice: pad = EOS
    texts = [tokenizer.apply_chat_template(e.messages, tokenize=False) for e in examples]
    longest = max(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    encoded = tokenizer(texts, padding="max_length", max_length=longest, add_special_tokens=False)
    rows = [
        {"input_ids": ids, "attention_mask": mask, "labels": list(ids)}
        for ids, mask in zip(encoded["input_ids"], encoded["attention_mask"])
    ]
    trainer = Trainer(
        model=model, args=arguments(folder, steps, bf16, False), train_dataset=rows, data_collator=default_data_collator
    )
    return trainer, longest


def docent(examples: list[data.Example], steps: int, folder: str, dropout: float, layers: int = 0) -> Trainer:
    tokenizer, model = lora_model(dropout, layers)
    eot = end_of_turn_ids(tokenizer, model.generation_config)
    ensure_pad_token(tokenizer, eot)
    rows, _ = tokenise(examples, tokenizer, eot, 4096)
    return AnswerOnlyTrainer(
        model=model,
        args=arguments(folder, steps, bf16_training(), True),
        train_dataset=rows,
        data_collator=PadCollator(tokenizer.pad_token_id),
    )


def build(name: str, examples: list[data.Example], steps: int, folder: str) -> tuple[Trainer, int]:
    if name.startswith("docent"):
        dropout = 0.05 if name.endswith("0.05)") else TuneConfig().lora_dropout
        layers = int(name.split("top ")[1].split()[0]) if "top " in name else 0
        return docent(examples, steps, folder, dropout, layers), 0
    return baseline(examples, steps, name.endswith("(bf16)"), folder)


def peak_memory_mb(name: str, examples: Path) -> float:
    """Peak memory of one training, in a process of its own that reads the same examples."""
    out = subprocess.run(
        [sys.executable, __file__, "--only", name, "--examples", str(examples), "--steps", "4"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split("PEAK")[-1].strip())


def examples_for(count: int, folder: str) -> list[data.Example]:
    ingest([ROOT / "data" / "sample"], IngestConfig(), Path(folder) / "ws", progress=False)
    pairs = store.pairs(Workspace(Path(folder) / "ws").connect(), OWNER, "train")
    return data.closed_book(random.Random(0).sample(pairs, min(count, len(pairs))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=384)
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps of 8 examples per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", help=argparse.SUPPRESS)  # one training, for the memory measurement
    parser.add_argument("--examples", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.examples:
            examples = [data.Example(m, "closed-book", 0) for m in json.loads(args.examples.read_text())]
        else:
            examples = examples_for(args.pairs, tmp)
        saved = Path(tmp) / "examples.json"
        saved.write_text(json.dumps([e.messages for e in examples]))
        if args.only:
            trainer, _ = build(args.only, examples, args.steps, tmp)
            trainer.train()
            if torch.cuda.is_available():
                peak = torch.cuda.max_memory_allocated() / 2**20
            else:
                # VmHWM, not ru_maxrss: the latter carries over the parent's peak across fork and exec
                status = Path("/proc/self/status").read_text()
                peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
            print(f"PEAK {peak:.0f}")
            return
        tokenizer, model = load("embedded")
        eot = end_of_turn_ids(tokenizer, model.generation_config)
        encoded, _ = tokenise(examples, tokenizer, eot, 4096)
        per_example = statistics.mean(sum(1 for t in e["labels"] if t != data.IGNORE) for e in encoded)
        useful = per_example * 8 * args.steps  # answer tokens in the examples the steps see, on average
        speeds: dict[str, list[float]] = {
            "baseline (fp32)": [],
            "baseline (bf16)": [],
            "docent (dropout 0.05)": [],
            "docent": [],
            f"docent (top {LAYERS} layers)": [],
        }
        longest = 0
        for _ in range(args.rounds):
            for name in speeds:
                trainer, padded = build(name, examples, args.steps, tmp)
                longest = max(longest, padded)
                start = time.perf_counter()
                trainer.train()
                speeds[name].append(useful / (time.perf_counter() - start))
                del trainer
        memory = {name: peak_memory_mb(name, saved) for name in speeds}
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"\n{len(examples)} closed-book examples, {per_example:.1f} answer tokens each on average, padded to "
        f"{longest} tokens in the baseline; {args.steps} steps of 8, {args.rounds} rounds; {device}; "
        f"Docent in {'bf16' if bf16_training() else 'fp32'}\n"
    )
    print(f"{'training':22s} {'answer tokens/s':>16s} {'peak memory':>12s} {'vs baseline fp32':>17s}")
    reference = statistics.median(speeds["baseline (fp32)"])
    for name, found in speeds.items():
        speed = statistics.median(found)
        print(f"{name:22s} {speed:16.1f} {memory[name]:9.0f} MB {speed / reference:16.2f}x")


if __name__ == "__main__":
    main()
