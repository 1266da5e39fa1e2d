"""Training throughput: Docent's LoRA training beside the course-style baseline, on the same pairs, in one process.

    python bench/train_speed.py [--pairs 384] [--steps 12] [--rounds 2]

Both train the embedded SmolLM2-135M with the same LoRA settings and batch size on the same closed-book
examples (a seeded sample of the sample corpus's training pairs, passage pairs included), through transformers'
Trainer:
- baseline, as course notebooks do it: every example padded to the longest one, labels = input_ids (so the
  prompt and the padding are trained too), pad token = EOS, float32;
- the same baseline in bf16 mixed precision, to show how much of the gain is precision alone;
- Docent: dynamic padding, batches grouped by length, loss on answer tokens only with logits computed only
  there, bf16 mixed precision where the hardware has it.
The useful work is the answer tokens (answers and their end-of-turn token); the figure is answer tokens per
second of training, alternated over `--rounds` rounds, with peak memory (RSS growth on a CPU, allocated GPU
memory on CUDA) for each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
import torch
from transformers import Trainer, TrainingArguments, default_data_collator

from assistant import data
from assistant.tune import AnswerOnlyTrainer, PadCollator, load_base, tokenise
from ingest.config import IngestConfig
from ingest.models import bf16_training
from ingest.pipeline import ingest
from ingest.store import Workspace

ROOT = Path(__file__).resolve().parent.parent


class PeakMemory:
    """Peak memory while a block runs: allocated GPU memory on CUDA, else the process's RSS growth."""

    def __enter__(self) -> PeakMemory:
        self.peak = 0
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
            self.start = torch.cuda.memory_allocated()
            return self
        self.process = psutil.Process()
        self.start = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss - self.start)
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        if torch.cuda.is_available():
            self.peak = torch.cuda.max_memory_allocated() - self.start
        else:
            self.running = False
            self.thread.join()


def lora_model():  # type: ignore[no-untyped-def]
    from peft import LoraConfig, get_peft_model

    tokenizer, model = load_base("embedded")
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")
    return tokenizer, get_peft_model(model, lora)


def arguments(folder: str, steps: int, bf16: bool, grouped: bool) -> TrainingArguments:
    return TrainingArguments(
        output_dir=folder, per_device_train_batch_size=8, max_steps=steps, learning_rate=1e-3, bf16=bf16,
        train_sampling_strategy="group_by_length" if grouped else "random", save_strategy="no", report_to="none",
        disable_tqdm=True, logging_steps=1000, remove_unused_columns=False, use_cpu=not torch.cuda.is_available(),
        seed=0,
    )  # fmt: skip


def baseline(examples: list[data.Example], steps: int, bf16: bool, folder: str) -> tuple[Trainer, int]:
    tokenizer, model = lora_model()
    tokenizer.pad_token = tokenizer.eos_token  # the course-style choice: pad = EOS
    texts = [tokenizer.apply_chat_template(e.messages, tokenize=False) for e in examples]
    longest = max(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    encoded = tokenizer(texts, padding="max_length", max_length=longest, add_special_tokens=False)
    rows = [{"input_ids": ids, "attention_mask": mask, "labels": list(ids)}
            for ids, mask in zip(encoded["input_ids"], encoded["attention_mask"])]  # fmt: skip
    trainer = Trainer(model=model, args=arguments(folder, steps, bf16, False), train_dataset=rows,
                      data_collator=default_data_collator)  # fmt: skip
    return trainer, longest


def docent(examples: list[data.Example], steps: int, folder: str) -> Trainer:
    tokenizer, model = lora_model()
    eot = data.end_of_turn_ids(tokenizer, model.generation_config)
    data.ensure_pad_token(tokenizer, eot)
    rows, _ = tokenise(examples, tokenizer, eot, 4096)
    return AnswerOnlyTrainer(model=model, args=arguments(folder, steps, bf16_training(), True), train_dataset=rows,
                             data_collator=PadCollator(tokenizer.pad_token_id))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=384)
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps of 8 examples per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ingest([ROOT / "data" / "sample"], IngestConfig(), Path(tmp) / "ws", progress=False)
        pairs = data.pairs_for_training(Workspace(Path(tmp) / "ws").connect())
        pairs = random.Random(0).sample(pairs, min(args.pairs, len(pairs)))
        examples = data.closed_book(pairs)
        tokenizer, model = load_base("embedded")
        eot = data.end_of_turn_ids(tokenizer, model.generation_config)
        answer_tokens = [
            sum(1 for t in e["labels"] if t != data.IGNORE) for e in tokenise(examples, tokenizer, eot, 4096)[0]
        ]
        per_example = statistics.mean(answer_tokens)
        useful = per_example * 8 * args.steps  # answer tokens in the examples the steps see, on average
        runs: dict[str, list[tuple[float, int]]] = {"baseline (fp32)": [], "baseline (bf16)": [], "docent": []}
        longest = 0
        for _ in range(args.rounds):
            for name in runs:
                if name == "docent":
                    trainer = docent(examples, args.steps, tmp)
                else:
                    trainer, longest = baseline(examples, args.steps, name.endswith("(bf16)"), tmp)
                with PeakMemory() as memory:
                    start = time.perf_counter()
                    trainer.train()
                    seconds = time.perf_counter() - start
                runs[name].append((useful / seconds, memory.peak))
                del trainer
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"\n{len(examples)} closed-book examples, {per_example:.1f} answer tokens each on average, padded to "
          f"{longest} tokens in the baseline; {args.steps} steps of 8, {args.rounds} rounds; {device}; "
          f"Docent in {'bf16' if bf16_training() else 'fp32'}\n")  # fmt: skip
    print(f"{'training':18s} {'answer tokens/s':>16s} {'peak memory':>12s} {'vs baseline fp32':>17s}")
    reference = statistics.median(t for t, _ in runs["baseline (fp32)"])
    for name, found in runs.items():
        speed = statistics.median(t for t, _ in found)
        memory = max(m for _, m in found) / 2**20
        print(f"{name:18s} {speed:16.1f} {memory:9.0f} MB {speed / reference:16.2f}x")


if __name__ == "__main__":
    main()
