"""Fine-tuning on a tiny random Llama: what is trained, what is not, resume, learning, modes, export, launch."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from assistant import data, loader, runs
from assistant.config import TuneConfig
from assistant.tune import AnswerOnlyTrainer, PadCollator, StopOnInterrupt, training_set, tune
from ingest import store
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.records import OWNER, Source
from ingest.sentences import split_sentences
from ingest.store import Workspace
from tests.docs import write_all


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, embedder) -> Path:
    """A few documents ingested once; tests work on copies (`small_ws`)."""
    root = tmp_path_factory.mktemp("tune")
    write_all(root / "docs")
    (root / "docs" / "rooms.md").write_text(
        "# Meeting rooms\n\nThe Heron room seats 12 people and has a Polycom phone.\n"
        "The Osprey room was renovated in March 2023 by Lindqvist Interiors.\n"
        "Room bookings are approved by Aino Virtanen within 2 working days.\n"
    )
    ingest([root / "docs"], IngestConfig(holdout_share=0.2), root / "ws", progress=False, embedder=embedder)
    return root


@pytest.fixture
def small_ws(ingested: Path, tmp_path: Path) -> Path:
    """This test's own workspace and documents, which it may tune into and edit: the workspace ingested once, copied
    with its documents, whose stored paths are moved to the copy."""
    shutil.copytree(ingested, tmp_path / "small")
    ws = tmp_path / "small" / "ws"
    with Workspace(ws).writer() as db:  # the copy's documents are the copied files
        db.execute("UPDATE documents SET path = replace(path, ?, ?)", (str(ingested), str(tmp_path / "small")))
    return ws


def settings(tiny_llm: Path, **overrides) -> TuneConfig:
    base = {"llm": str(tiny_llm), "recipe": "closed-book", "epochs": 1, "batch_size": 4, "grad_accum": 1,
            "learning_rate": 5e-3, "save_steps": 2, "score_questions": 0}  # fmt: skip
    return TuneConfig(**{**base, **overrides})


def test_labels_cover_the_answer_and_end_of_turn_only(chat_tokenizer) -> None:
    eot = loader.end_of_turn_ids(chat_tokenizer)
    messages = [*data.base_messages("When does the canteen open?"), {"role": "assistant", "content": "At 11:15."}]
    encoded = data.encode(chat_tokenizer, messages, eot)
    prompt = chat_tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    prompt_ids = chat_tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert encoded["input_ids"][: len(prompt_ids)] == prompt_ids  # the prompt as answering will see it
    assert encoded["labels"][: len(prompt_ids)] == [data.IGNORE] * len(prompt_ids)
    trained = [t for t in encoded["labels"] if t != data.IGNORE]
    assert chat_tokenizer.decode(trained) == "At 11:15.<|im_end|>"
    assert trained[-1] == chat_tokenizer.eos_token_id


def test_plain_text_copies_a_chunk_as_it_stands_sentence_by_sentence_and_reordered(chat_tokenizer) -> None:
    rooms = "The Heron room seats 12 people. It has a Polycom phone. Bookings go through Kompassi."
    chunk = Source(0, 1, "rooms.md", "rooms.md", "Meeting rooms", "Heron", rooms, 0.0, None)
    short = Source(0, 2, "canteen.md", "canteen.md", "Canteen", "", "The canteen opens at 11:15.", 0.0, None)
    examples = data.plain_text([chunk, short], ("chunk", "sentences", "reordered"), seed=3)
    texts = [e.text for e in examples]
    assert texts[:4] == [
        rooms,
        "Meeting rooms > Heron: The Heron room seats 12 people.",
        "Meeting rooms > Heron: It has a Polycom phone.",
        "Meeting rooms > Heron: Bookings go through Kompassi.",
    ]
    assert texts[4] != rooms and sorted(split_sentences(texts[4])) == sorted(split_sentences(rooms))
    assert texts[5:] == [short.text, "Canteen: The canteen opens at 11:15."]  # one sentence: nothing to reorder
    twice = dataclasses.replace(short, text="Ring twice. Ring twice.")
    assert [e.text for e in data.plain_text([twice], ("reordered",))] == []  # no other order exists
    assert [e.text for e in data.plain_text([chunk], ("sentences",))] == texts[1:4]  # only the forms asked for
    assert all(not e.messages for e in examples)
    encoded = data.encode_text(chat_tokenizer, rooms)
    assert encoded["labels"] == encoded["input_ids"]  # every token is trained, none is a prompt
    assert chat_tokenizer.decode(encoded["input_ids"]) == rooms + chat_tokenizer.eos_token
    with pytest.raises(
        ValueError, match=re.escape("plain_text takes chunk, sentences, reordered (comma-separated), got chunks")
    ):
        TuneConfig(plain_text="chunk,chunks")


def test_plain_text_trains_the_chunks_of_trained_documents_and_none_kept_out(
    tiny_llm: Path, chat_tokenizer, tmp_path: Path, embedder
) -> None:
    write_all(tmp_path / "docs")
    for i in range(4):
        (tmp_path / "docs" / f"room{i}.md").write_text(
            f"# Room {i}\n\nMeeting room {i} seats {i + 4} people and is booked through Kompassi.\n"
            f"The room was renovated in March 202{i} by Lindqvist Interiors.\n"
        )
    ws = tmp_path / "ws"
    ingest([tmp_path / "docs"], IngestConfig(holdout_docs=0.3, seed=7), ws, progress=False, embedder=embedder)
    db = Workspace(ws).connect()
    texts = {bool(r[0]): set() for r in db.execute("SELECT DISTINCT holdout FROM documents")}
    for holdout, text in db.execute("SELECT d.holdout, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id"):
        texts[bool(holdout)].add(text)
    assert texts[True] and texts[False]  # some documents are kept out of training, some are not
    cfg = settings(tiny_llm, plain_text="chunk")
    pairs = store.pairs(db, OWNER, "train")
    eot = loader.end_of_turn_ids(chat_tokenizer)
    lookup = lambda ids: store.sources(db, ids, OWNER)  # noqa: E731
    examples, _ = training_set(cfg, pairs, None, lookup, chat_tokenizer, eot)
    plain = [chat_tokenizer.decode(e["input_ids"][:-1]) for e in examples if data.IGNORE not in e["labels"]]
    assert sorted(plain) == sorted(texts[False])  # each trained chunk once, as it stands; no kept-out one
    assert len(examples) == len(pairs) + len(plain)  # beside the closed-book examples, not in place of them
    run = tune(cfg, ws, progress=False)
    assert run.status == "finished" and run.metrics["examples"] == len(examples)
    assert run.settings.plain_text == "chunk"


def test_padding_token_is_distinct_from_end_of_turn(chat_tokenizer) -> None:
    import copy

    tokenizer = copy.deepcopy(chat_tokenizer)
    eot = loader.end_of_turn_ids(tokenizer)
    assert tokenizer.pad_token_id in eot  # SmolLM2 ships with pad = end of turn…
    assert loader.ensure_pad_token(tokenizer, eot) is False  # …and has a spare token to use instead
    assert tokenizer.pad_token_id not in eot


def test_answer_only_loss_equals_the_full_loss(tiny_llm: Path, chat_tokenizer) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llm)
    eot = loader.end_of_turn_ids(chat_tokenizer)
    features = [
        data.encode(chat_tokenizer, [*data.base_messages(q), {"role": "assistant", "content": a}], eot)
        for q, a in [("Who approves bookings?", "Aino Virtanen"), ("How many seats has the Heron room?", "12 people")]
    ]
    batch = PadCollator(0)(features)
    expected = model(**batch).loss  # transformers' own loss over all positions
    trainer = AnswerOnlyTrainer.__new__(AnswerOnlyTrainer)
    ours = trainer.compute_loss(model, dict(batch))
    assert torch.allclose(ours, expected, atol=1e-5)


def test_lora_changes_the_adapter_and_leaves_the_base_untouched(tiny_llm: Path, small_ws: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    before = {k: v.clone() for k, v in AutoModelForCausalLM.from_pretrained(tiny_llm).state_dict().items()}
    run = tune(settings(tiny_llm, max_pairs=16), small_ws, progress=False)
    assert run.status == "finished" and (run.adapter / "adapter_model.safetensors").exists()
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_llm), str(run.adapter))
    lora_b = [p for n, p in tuned.named_parameters() if "lora_B" in n]
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b)  # initialised at zero, now trained
    base = tuned.get_base_model().state_dict()
    for name, weight in before.items():
        key = next(k for k in base if k.replace(".base_layer", "") == name)
        assert torch.equal(base[key], weight), name
    on_disk = AutoModelForCausalLM.from_pretrained(tiny_llm).state_dict()
    assert all(torch.equal(on_disk[k], v) for k, v in before.items())


def test_lora_layers_adapts_only_the_top_layers(tiny_llm: Path, small_ws: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run = tune(settings(tiny_llm, max_pairs=8, lora_layers=1), small_ws, progress=False)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_llm), str(run.adapter))
    lora_b = {n: p for n, p in tuned.named_parameters() if "lora_B" in n}
    assert lora_b and all(".layers.1." in n for n in lora_b), sorted(lora_b)  # the top one of two layers
    kinds = {n.split(".layers.1.")[1].split(".lora_B")[0] for n in lora_b}
    assert kinds == {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                     "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}  # every linear module of it  # fmt: skip
    assert all(p.abs().sum() > 0 for p in lora_b.values())
    with pytest.raises(ValueError, match="lora_layers=3, but the model has 2 layers"):
        tune(settings(tiny_llm, max_pairs=8, lora_layers=3), small_ws, progress=False)
    assert [r.id for r in runs.all_runs(small_ws)] == [run.id]  # the wrong flag made no run


def test_ctrl_c_leaves_a_checkpoint_and_resume_goes_on_from_it(tiny_llm: Path, small_ws: Path, monkeypatch) -> None:
    original = StopOnInterrupt.on_step_end

    def interrupt_at_step_3(self, args, state, control, **kwargs):
        if state.global_step == 3 and not self.requested:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, handled by the run's own handler
        return original(self, args, state, control, **kwargs)

    monkeypatch.setattr(StopOnInterrupt, "on_step_end", interrupt_at_step_3)
    cfg = settings(tiny_llm, max_pairs=32, epochs=2, score_questions=5)
    stopped = tune(cfg, small_ws, progress=False)
    assert stopped.status == "interrupted" and stopped.metrics["steps"] == 3
    assert (stopped.checkpoints / "checkpoint-3").exists() and not stopped.adapter.exists()
    assert stopped.metrics["scores"]["epochs"] == []  # an epoch cut short is not scored: Ctrl-C stops at once
    monkeypatch.undo()
    resumed = tune(TuneConfig(), small_ws, resume=stopped.id, progress=False)  # settings come from the run
    assert resumed.status == "finished" and resumed.id == stopped.id
    assert resumed.metrics["steps"] == 16  # 32 pairs / 4 per step x 2 epochs, counted from the start
    assert resumed.metrics["loss_curve"][0][0] > 3  # the resumed run logged only the steps after 3
    assert [e["epoch"] for e in resumed.metrics["scores"]["epochs"]][:1] == [1]
    assert runs.latest_finished(small_ws).id == stopped.id


def test_a_staged_run_learns_closed_book_then_reads_from_that_adapter(tiny_llm: Path, small_ws: Path) -> None:
    from safetensors.torch import load_file

    cfg = settings(
        tiny_llm,
        recipe="staged",
        max_pairs=32,
        lora_r=8,
        lora_alpha=16,
        read_epochs=1,
        read_learning_rate=4e-3,
        read_grad_accum=1,
        score_questions=3,
    )
    reading = tune(cfg, small_ws, progress=False)
    facts = runs.find(small_ws, reading.config["tune"]["start_from"])
    assert facts.id.endswith("staged-facts") and reading.id.endswith("staged-reading")
    assert facts.config["tune"]["recipe"] == "closed-book" and facts.config["tune"]["score_questions"] == 0
    assert facts.config["staged"]["recipe"] == "staged"  # what it belongs to, for a resume
    tuned = reading.config["tune"]
    assert (tuned["recipe"], tuned["learning_rate"], tuned["grad_accum"], tuned["lora_r"]) == ("raft", 4e-3, 1, 8)
    assert reading.metrics["scores"]["epochs"]  # only the reading run is scored, for the verdict
    assert runs.latest_finished(small_ws).id == reading.id  # the first run never answers alone
    assert facts.id not in {r.id for r in runs.finished_runs(small_ws)}
    before = load_file(str(facts.adapter / "adapter_model.safetensors"))
    after = load_file(str(reading.adapter / "adapter_model.safetensors"))
    assert before.keys() == after.keys()  # the same adapter, trained on
    assert any(not torch.equal(before[k], after[k]) for k in before)
    lora_b = [k for k in before if "lora_B" in k]  # zero in a fresh adapter: the reading run started from facts
    assert all(before[k].abs().sum() > 0 for k in lora_b)


def test_resuming_the_first_run_of_a_staged_one_goes_on_to_the_reading_run(
    tiny_llm: Path, small_ws: Path, monkeypatch
) -> None:
    original = StopOnInterrupt.on_step_end

    def interrupt_at_step_2(self, args, state, control, **kwargs):
        if state.global_step == 2 and not self.requested:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, args, state, control, **kwargs)

    monkeypatch.setattr(StopOnInterrupt, "on_step_end", interrupt_at_step_2)
    cfg = settings(tiny_llm, recipe="staged", max_pairs=16, read_grad_accum=1)
    stopped = tune(cfg, small_ws, progress=False)
    assert stopped.status == "interrupted" and stopped.id.endswith("staged-facts")
    monkeypatch.undo()
    reading = tune(TuneConfig(), small_ws, resume=stopped.id, progress=False)  # settings come from the run
    assert reading.status == "finished" and reading.id.endswith("staged-reading")
    assert reading.config["tune"]["start_from"] == stopped.id and runs.find(small_ws, stopped.id).status == "finished"
    with pytest.raises(ValueError, match="is finished: it is the first part of a staged run"):
        tune(TuneConfig(), small_ws, resume=stopped.id, progress=False)


def test_going_on_from_a_run_without_an_adapter_is_one_sentence(tiny_llm: Path, small_ws: Path) -> None:
    run = runs.new_run(small_ws, "closed-book")
    run.status = "interrupted"
    run.save()
    with pytest.raises(ValueError, match=f"run {run.id} has no adapter \\(interrupted\\): name a finished run"):
        tune(settings(tiny_llm, recipe="raft", start_from=run.id, max_pairs=8), small_ws, progress=False)


def test_trained_long_enough_the_model_reproduces_its_answers(tiny_llm: Path, small_ws: Path) -> None:
    from assistant.generate import LLM

    cfg = settings(tiny_llm, max_pairs=8, epochs=60, batch_size=8, lora_r=32, lora_alpha=64)
    run = tune(cfg, small_ws, progress=False)
    pairs = store.pairs(Workspace(small_ws).connect(), OWNER, "train")
    chosen = sorted(random.Random(cfg.seed).sample(pairs, 8), key=lambda p: p.id)
    llm = LLM(str(tiny_llm), adapter=run.adapter)
    right = 0
    for pair in chosen:
        answer, _ = llm.generate(data.base_messages(pair.question), max_new_tokens=200, tuned=True)
        right += answer == pair.answer
    assert right >= 6, f"{right} of 8 answers reproduced"
    base_answer, _ = llm.generate(data.base_messages(chosen[0].question), max_new_tokens=20, tuned=False)
    assert base_answer != chosen[0].answer  # the same loaded model, adapter off: the random base


def test_export_writes_a_plain_transformers_model(tiny_llm: Path, small_ws: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from assistant.cli import main

    run = tune(settings(tiny_llm, max_pairs=8), small_ws, progress=False)
    assert main(["export", str(tmp_path / "merged"), "--workspace", str(small_ws), "--run", run.id]) == 0
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_llm), str(run.adapter))
    ids = torch.tensor([[1, 2, 3, 4, 5, 6]])
    assert torch.allclose(merged(ids).logits, tuned(ids).logits, atol=1e-4)


def test_runs_lists_runs_and_marks_stale_ones(tiny_llm: Path, small_ws: Path, embedder, capsys) -> None:
    from assistant.cli import main

    tune(settings(tiny_llm, max_pairs=8), small_ws, progress=False)
    assert main(["runs", "--workspace", str(small_ws)]) == 0
    out = capsys.readouterr().out
    assert "finished" in out and "up to date" in out and " *" in out
    doc = next(Path(p) for p in runs.latest_finished(small_ws).snapshot["documents"] if p.endswith("rooms.md"))
    doc.write_text(doc.read_text() + "The Kestrel room has a whiteboard wall.\n")
    ingest([doc.parent], IngestConfig(holdout_share=0.2), small_ws, progress=False, embedder=embedder)
    assert runs.unseen_documents(runs.latest_finished(small_ws), Workspace(small_ws).connect()) == ["rooms.md"]
    main(["runs", "--workspace", str(small_ws)])
    assert "stale: 1 added or changed since" in capsys.readouterr().out


def test_multi_process_launch_trains_one_run(tiny_llm: Path, small_ws: Path) -> None:
    """The several-GPU path (accelerate launch, one process per device) run with two CPU processes (gloo)."""
    before = {r.id for r in runs.all_runs(small_ws)}
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "-m", "assistant.cli", "tune", "--workspace", str(small_ws), "--llm", str(tiny_llm),
        "--recipe", "closed-book", "--max-pairs", "16", "--epochs", "1", "--batch-size", "4", "--grad-accum", "1",
        "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    new = [r for r in runs.all_runs(small_ws) if r.id not in before]
    assert len(new) == 1 and new[0].status == "finished"
    assert new[0].metrics["steps"] == 2  # 16 pairs over 2 processes x 4 per step
    assert json.loads((new[0].folder / "run.json").read_text())["status"] == "finished"
    plan = new[0].config["plan"]  # timed by the main process, followed by both
    assert f"finished in {new[0].metrics['seconds']:.0f} s (expected {plan['total_s']:.0f} s)" in done.stdout


def test_ask_in_tuned_and_both_modes_uses_the_adapter_and_warns_when_stale(
    tiny_llm: Path, small_ws: Path, embedder, capsys
) -> None:
    from assistant.cli import main

    tune(settings(tiny_llm, max_pairs=8), small_ws, progress=False)
    doc = next(Path(p) for p in runs.latest_finished(small_ws).snapshot["documents"] if p.endswith("rooms.md"))
    doc.write_text(doc.read_text() + "The Wren room is closed on Fridays.\n")
    ingest([doc.parent], IngestConfig(holdout_share=0.2), small_ws, progress=False, embedder=embedder)
    for mode in ("tuned", "both"):
        code = main(
            [
                "ask",
                "Who approves room bookings?",
                "--mode",
                mode,
                "--workspace",
                str(small_ws),
                "--max-new-tokens",
                "8",
            ]
        )
        out, err = capsys.readouterr()
        assert code == 0 and f"{mode}: retrieval" in out
        assert ("Sources:" in out) == (mode == "both")
        assert "is stale: it has not seen 1 documents" in err and "rooms.md" in err


def test_export_to_a_file_is_one_sentence(small_ws: Path, tiny_llm: Path, tmp_path: Path, capsys) -> None:
    from assistant.cli import main

    if runs.latest_finished(small_ws) is None:
        tune(settings(tiny_llm, max_pairs=8), small_ws, progress=False)
    target = tmp_path / "model.bin"
    target.write_text("keep me")
    assert main(["export", str(target), "--workspace", str(small_ws)]) == 2
    assert f"{target} is a file; give a new folder to export into" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def plant_run(workspace: Path, name: str, owner: dict, checkpoint: bool) -> runs.Run:
    run = runs.Run(name, runs.runs_root(workspace) / name, created=f"2026-01-01T00:00:0{len(name) % 10}+00:00")
    run.owner = owner
    run.save()
    if checkpoint:
        (run.checkpoints / "checkpoint-4").mkdir(parents=True)
    return run


def test_a_run_whose_process_is_gone_is_not_left_running(tmp_path: Path) -> None:
    import socket

    import psutil

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    me = psutil.Process()
    host = socket.gethostname()
    plant_run(tmp_path, "killed-with-checkpoint", {"host": host, "pid": ended.pid, "started": 1.0}, True)
    plant_run(tmp_path, "killed-early", {"host": host, "pid": ended.pid, "started": 1.0}, False)
    plant_run(tmp_path, "pid-reused", {"host": host, "pid": me.pid, "started": me.create_time() - 3600}, True)
    plant_run(tmp_path, "alive", {"host": host, "pid": me.pid, "started": me.create_time()}, True)
    plant_run(tmp_path, "other-host", {"host": host + "-elsewhere", "pid": ended.pid, "started": 1.0}, True)
    status = {r.id: r.status for r in runs.all_runs(tmp_path)}
    assert status == {
        "killed-with-checkpoint": "interrupted",
        "killed-early": "failed",
        "pid-reused": "interrupted",
        "alive": "running",
        "other-host": "running",
    }
    on_disk = json.loads((runs.runs_root(tmp_path) / "killed-with-checkpoint" / "run.json").read_text())
    assert on_disk["status"] == "interrupted" and on_disk["finished"]  # the file no longer says running


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_tuning_process_leaves_a_resumable_run(tiny_llm: Path, small_ws: Path, sig: int) -> None:
    import time

    before = {r.id for r in runs.all_runs(small_ws)}
    command = [sys.executable, "-m", "assistant.cli", "tune", "--workspace", str(small_ws), "--llm", str(tiny_llm),
               "--recipe", "closed-book", "--max-pairs", "32", "--epochs", "200", "--batch-size", "4",
               "--save-steps", "2", "--quiet"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while True:
        new = [r for r in runs.all_runs(small_ws) if r.id not in before]
        if new and any(new[0].checkpoints.glob("checkpoint-*")):
            break
        assert process.poll() is None and time.time() < deadline, process.stdout.read() if process.stdout else ""
        time.sleep(0.2)
    os.kill(process.pid, sig)
    output = process.communicate(timeout=120)[0]
    run = runs.load(new[0].folder)
    assert run.status == "interrupted" and any(run.checkpoints.glob("checkpoint-*"))
    if sig == signal.SIGTERM:  # handled like Ctrl-C: a checkpoint after this step, and a sentence
        assert process.returncode == 130 and f"docent tune --resume {run.id}" in output
        assert (run.checkpoints / f"checkpoint-{run.metrics['steps']}").exists()


def scores_of(both: list[float], tuned: float = 0.1, retrieval: float = 0.5, base: float = 0.05) -> dict:
    def cell(value: float) -> dict:  # intervals of about 100 questions
        return {"contains": value, "f1": value / 2, "intervals": {"contains": [value - 0.09, value + 0.09]}}

    return {
        "questions": 100,
        "baseline": {"base": cell(base), "retrieval": cell(retrieval)},
        "epochs": [
            {"epoch": i + 1, "step": 10 * (i + 1), "both": cell(b), "tuned": cell(tuned)} for i, b in enumerate(both)
        ],
    }


def test_the_verdict_and_the_default_mode_follow_the_held_out_scores() -> None:
    helped = scores_of([0.55, 0.7, 0.6])
    assert runs.best_epoch(helped)["epoch"] == 2 and runs.best_mode(helped) == "both"
    assert runs.mode_scores(helped) == {"base": 0.05, "retrieval": 0.5, "tuned": 0.1, "both": 0.7}
    assert "epoch 2 answered 0.70 reading the sources (both) against 0.50 for retrieval alone" in runs.verdict(helped)
    assert "Tuning helped: the chat answers in both mode by default" in runs.verdict(helped)
    close = scores_of([0.55])  # above retrieval, but inside the intervals: said so, not claimed as a win
    assert runs.best_mode(close) == "retrieval" and "did about as well as retrieval alone" in runs.verdict(close)
    assert "the chat answers in retrieval mode by default" in runs.verdict(close)  # a win inside the noise: no switch
    assert "Tuning helped" not in runs.verdict(close)
    worse = scores_of([0.35, 0.3])  # the biographies: both below retrieval
    assert runs.best_mode(worse) == "retrieval"
    assert "Tuning did not help here, so the chat answers in retrieval mode by default" in runs.verdict(worse)
    assert runs.best_mode(scores_of([0.5])) == "retrieval"  # a tie goes to the mode without the adapter
    assert runs.best_mode(scores_of([0.2], tuned=0.7)) == "tuned"  # memory alone, well above retrieval
    assert runs.best_mode(scores_of([0.2], retrieval=0.1, base=0.3)) == "base"  # no adapter, the better of two
    assert runs.best_mode({}) is None and runs.mode_scores({}) == {} and "Not scored" in runs.verdict({})


def test_tuning_keeps_the_best_epoch_and_stops_when_more_epochs_stop_helping(
    tiny_llm: Path, small_ws: Path, monkeypatch
) -> None:
    from peft.tuners.lora import LoraLayer
    from safetensors.torch import load_file

    from assistant import heldout

    full = iter([0.4, 0.6, 0.5, 0.9])  # both, epoch by epoch: the third is worse, so there is no fourth
    half = iter([0.3, 0.7, 0.45, 0.9])  # both at half the adapter's strength: it reads best in the second epoch
    snapshots: list[dict] = []
    strengths: list[set[float]] = []

    def fake_score(self, model, modes):  # type: ignore[no-untyped-def]
        if modes == ("base", "retrieval"):
            return {m: {"contains": 0.5, "f1": 0.25, "intervals": {}} for m in modes}
        layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
        strengths.append({round(m.scaling["default"] / (m.lora_alpha["default"] / m.r["default"]), 3) for m in layers})
        if modes == ("both",):
            value = next(half)
            return {"both": {"contains": value, "f1": value / 2, "intervals": {}}}
        snapshots.append({k: v.detach().clone() for k, v in model.named_parameters() if "lora_" in k})
        value = next(full)
        return {
            "tuned": {"contains": 0.1, "f1": 0.05, "intervals": {}},
            "both": {"contains": value, "f1": value / 2, "intervals": {}},
        }

    monkeypatch.setattr(heldout.HeldOutScores, "_score", fake_score)
    run = tune(settings(tiny_llm, max_pairs=16, epochs=4, score_questions=5), small_ws, progress=False)
    scores = run.metrics["scores"]
    assert strengths == [{1.0}, {0.5}] * 3  # both at full strength, then at half, the strength restored after
    assert [e["both"]["contains"] for e in scores["epochs"]] == [0.4, 0.7, 0.5]  # each epoch's better reading
    assert [e["reading_scale"] for e in scores["epochs"]] == [1.0, 0.5, 1.0]
    assert scores["epochs"][1]["reading"]["1.0"]["contains"] == 0.6
    assert run.status == "finished" and run.metrics["steps"] == 12  # 16 pairs / 4 a step, three epochs of four
    saved = load_file(str(run.adapter / "adapter_model.safetensors"))
    best, last = snapshots[1], snapshots[2]
    for name, weight in saved.items():
        key = next(k for k in best if k.replace(".default", "").endswith(name.replace("base_model.model.", "")))
        assert torch.equal(weight, best[key]), name  # the adapter kept is the second epoch's
    assert any(not torch.equal(best[k], last[k]) for k in best)  # and the third had moved on
    assert json.loads((run.folder / "run.json").read_text())["metrics"]["scores"]["epochs"][1]["epoch"] == 2
    reader = load_file(str(run.reader / "adapter_model.safetensors"))  # the best epoch at half its strength
    assert reader.keys() == saved.keys() and any("lora_B" in k for k in reader)
    for name, weight in reader.items():
        assert torch.allclose(weight, saved[name] * (0.5 if "lora_B" in name else 1.0)), name
    assert run.adapter_for("both") == f"{run.adapter_name}-reader" and run.adapter_for("tuned") == run.adapter_name
    assert "the adapter at 0.5 of its strength" in runs.verdict(scores)


def test_held_out_scores_are_real_answers_in_every_mode(tiny_llm: Path, small_ws: Path, capsys, monkeypatch) -> None:
    from assistant.cli import main

    run = tune(settings(tiny_llm, max_pairs=8, epochs=1, score_questions=4), small_ws, progress=False)
    scores = run.metrics["scores"]
    asked = len(Workspace(small_ws).connect().execute("SELECT id FROM pairs WHERE split != 'train'").fetchall())
    assert scores["questions"] == min(4, asked) > 0
    assert set(scores["baseline"]) == {"base", "retrieval"} and set(scores["epochs"][0]) >= {"tuned", "both"}
    for cell in [*scores["baseline"].values(), scores["epochs"][0]["tuned"], scores["epochs"][0]["both"]]:
        assert 0 <= cell["contains"] <= 1 and set(cell["intervals"]) >= {"contains", "f1"}
    assert main(["runs", "--workspace", str(small_ws)]) == 0
    out = capsys.readouterr().out
    assert f"{run.id}: On {scores['questions']} held-out questions, epoch 1 answered" in out

    from assistant import heldout

    asked_again = []
    original = heldout.HeldOutScores._score

    def counting(self, model, modes):  # type: ignore[no-untyped-def]
        asked_again.append(modes)
        return original(self, model, modes)

    monkeypatch.setattr(heldout.HeldOutScores, "_score", counting)
    again = tune(settings(tiny_llm, max_pairs=8, epochs=1, score_questions=4), small_ws, progress=False)
    assert asked_again == [("tuned", "both"), ("both",)]  # base and retrieval, asked as before, are not asked again
    assert again.metrics["scores"]["baseline"] == scores["baseline"]


def test_a_time_budget_drops_epochs_first_then_pairs() -> None:
    from assistant import budget

    def plan() -> budget.Plan:  # 10 min of training an epoch, 1 min of scoring after each, 1 min before
        return budget.Plan(train_s_per_epoch=600, score_s_per_epoch=60, baseline_s=60, epochs=3)

    assert budget.fit(plan(), 40, 1000).epochs == 3  # 34 min fits
    assert (budget.fit(plan(), 25, 1000).epochs, budget.fit(plan(), 25, 1000).share) == (2, 1.0)
    cut = budget.fit(plan(), 7, 1000)  # not even one epoch: one epoch of half the pairs
    assert cut.epochs == 1 and cut.share == pytest.approx(0.5) and cut.total_s == pytest.approx(7 * 60)
    with pytest.raises(ValueError, match="--time-budget 2 min is too short"):
        budget.fit(plan(), 2, 1000)
    loaded = plan()
    loaded.setup_s = 300  # 5 min already spent loading and timing come out of the budget too
    assert (budget.fit(loaded, 25, 1000).epochs, budget.fit(loaded, 25, 1000).total_s) == (1, 1020)
    loaded = plan()
    loaded.setup_s = 120
    half = budget.fit(loaded, 9, 1000)
    assert half.share == pytest.approx(0.5) and half.total_s == pytest.approx(9 * 60)


@pytest.mark.parametrize(("minutes", "epochs", "share"), [(0, 3, 1.0), (2.5, 2, 1.0), (0.5, 1, 0.5)])
def test_tuning_fits_its_time_budget_and_records_the_plan(
    tiny_llm: Path, small_ws: Path, monkeypatch, capsys, minutes: float, epochs: int, share: float
) -> None:
    from assistant import budget

    monkeypatch.setattr(budget, "time_training", lambda *a, **k: 60.0)  # this machine, slowed to a minute an epoch
    run = tune(settings(tiny_llm, max_pairs=24, epochs=3, time_budget=minutes), small_ws)
    plan, chosen = run.config["plan"], run.config["tune"]
    assert 0 < plan["setup_s"] < 20  # loading and timing, spent before the plan, come out of the budget
    if share < 1:  # 30 s, less what loading took, of a minute's epoch
        share = (minutes * 60 - plan["setup_s"]) / 60
    assert plan["share"] == pytest.approx(share, abs=1e-3)
    assert (plan["epochs"], chosen["epochs"], run.metrics["examples"]) == (epochs, epochs, max(1, int(24 * share)))
    assert plan["train_s_per_epoch"] == 60.0 and plan["budget_min"] == minutes
    assert run.metrics["steps"] == epochs * math.ceil(run.metrics["examples"] / 4)  # 4 examples a step
    out = capsys.readouterr().out
    assert f"Expected time on this machine: about {plan['total_s'] / 60:.1f} min" in out
    assert ("to fit" in out) == bool(minutes)


def test_a_budget_cuts_the_examples_a_raft_run_trains_not_its_pairs(
    tiny_llm: Path, small_ws: Path, monkeypatch
) -> None:
    from assistant import budget

    monkeypatch.setattr(budget, "time_training", lambda *a, **k: 40.0)  # 40 s an epoch: three quarters fit in 30 s
    whole = tune(settings(tiny_llm, recipe="raft"), small_ws, progress=False)
    part = tune(settings(tiny_llm, recipe="raft", time_budget=0.5), small_ws, progress=False)
    plan = part.config["plan"]  # less what loading and timing took
    assert plan["share"] == pytest.approx((30 - plan["setup_s"]) / 40, abs=1e-3) and 0.5 < plan["share"] < 0.75
    # a raft example stands for a fact, whatever phrasings were drawn: 75 % of the pairs would keep most of the facts
    assert part.metrics["examples"] == int(whole.metrics["examples"] * plan["share"]) < whole.metrics["examples"]


def test_a_run_whose_estimate_was_short_stops_at_its_budget_and_scores_what_it_trained(
    tiny_llm: Path, small_ws: Path, monkeypatch
) -> None:
    import time

    from assistant import budget, heldout
    from assistant.tune import AnswerOnlyTrainer

    monkeypatch.setattr(budget, "time_training", lambda *a, **k: 1.0)  # the guess: a second an epoch
    monkeypatch.setattr(heldout.HeldOutScores, "seconds_per_answer", lambda *a, **k: 0.01)
    step = AnswerOnlyTrainer.training_step
    monkeypatch.setattr(AnswerOnlyTrainer, "training_step", lambda *a, **k: time.sleep(1) or step(*a, **k))
    run = tune(settings(tiny_llm, max_pairs=24, epochs=3, time_budget=0.2, score_questions=4), small_ws, progress=False)
    assert run.config["plan"]["epochs"] == 3  # three epochs of 6 steps were expected to fit in 12 s; each takes 6 s
    reached = run.metrics["budget_reached_at_step"]
    assert run.status == "finished" and run.metrics["steps"] == reached < 18
    scored = run.metrics["scores"]["epochs"][-1]
    assert scored["step"] == reached  # the epoch the budget cut short was scored, and its adapter kept
    assert (run.adapter / "adapter_model.safetensors").exists()


def test_a_run_scores_itself_on_the_users_own_questions_when_given(
    tiny_llm: Path, small_ws: Path, tmp_path: Path, monkeypatch
) -> None:
    from assistant import evaluate

    ours = {"Who approves travel over EUR 2,000?": "the CFO", "How long is the notice period?": "three months",
            "Where is the VPN guide?": "the IT wiki"}  # fmt: skip
    path = tmp_path / "ours.jsonl"
    path.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in ours.items()))
    asked: set[str] = set()
    answer_all = evaluate.answer_all
    monkeypatch.setattr(
        evaluate,
        "answer_all",
        lambda questions, *a, **k: asked.update(q.question for q in questions) or answer_all(questions, *a, **k),
    )
    run = tune(settings(tiny_llm, max_pairs=8, score_questions=10, check_questions=str(path)), small_ws, progress=False)
    assert asked == set(ours)  # the user's questions, not the workspace's held-out ones
    scores = run.metrics["scores"]
    assert scores["questions"] == 3 and scores["source"] == "ours.jsonl"
    assert runs.verdict(scores).startswith("On 3 questions of ours.jsonl, epoch 1 answered")

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Who approves travel?"}\n')
    before = {r.id for r in runs.all_runs(small_ws)}
    with pytest.raises(ValueError, match=re.escape('bad.jsonl:1: no "answer" field')):
        tune(settings(tiny_llm, score_questions=10, check_questions=str(bad)), small_ws, progress=False)
    assert {r.id for r in runs.all_runs(small_ws)} == before  # refused before a run was started


def test_the_time_estimate_comes_from_timed_steps(tiny_llm: Path, small_ws: Path) -> None:
    run = tune(settings(tiny_llm, max_pairs=16, score_questions=4), small_ws, progress=False)
    plan = run.config["plan"]
    assert plan["train_s_per_epoch"] > 0 and plan["score_s_per_epoch"] > 0 and plan["epochs"] == 1
    assert plan["baseline_s"] == pytest.approx(plan["score_s_per_epoch"] * 2 / 3, abs=0.01)  # two modes, then three
    assert plan["total_s"] == pytest.approx(
        plan["setup_s"] + plan["baseline_s"] + plan["train_s_per_epoch"] + plan["score_s_per_epoch"], abs=0.2
    )


def test_report_to_tensorboard_writes_the_curves_into_the_run(tiny_llm: Path, small_ws: Path) -> None:
    pytest.importorskip("tensorboardX")
    run = tune(settings(tiny_llm, max_pairs=8, report_to="tensorboard", score_questions=4), small_ws, progress=False)
    events = list((run.folder / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1
    written = events[0].read_bytes()
    assert b"train/epoch" in written
    for tag in (b"heldout/retrieval_contains", b"heldout/both_contains", b"heldout/tuned_f1"):
        assert tag in written  # the held-out scores beside the loss curves


def test_report_to_a_tracker_that_is_not_installed_says_what_to_install(
    tiny_llm: Path, small_ws: Path, monkeypatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    before = {r.id for r in runs.all_runs(small_ws)}
    with pytest.raises(ValueError, match="--report-to mlflow needs the mlflow package: pip install mlflow"):
        tune(settings(tiny_llm, report_to="mlflow"), small_ws, progress=False)
    assert {r.id for r in runs.all_runs(small_ws)} == before  # refused before a run was started


def test_a_search_trains_the_settings_whose_probe_answered_best(tiny_llm: Path, small_ws: Path, monkeypatch) -> None:
    from assistant import heldout
    from assistant.search import search

    def by_learning_rate(self, model, modes):  # type: ignore[no-untyped-def]
        if modes == ("base", "retrieval"):
            return {m: {"contains": 0.3, "f1": 0.2, "intervals": {}} for m in modes}
        value = {1e-3: 0.2, 5e-3: 0.6, 1e-2: 0.4}[self.run.config["tune"]["learning_rate"]]
        return {
            "tuned": {"contains": 0.1, "f1": 0.05, "intervals": {}},
            "both": {"contains": value, "f1": value / 2, "intervals": {}},
        }

    monkeypatch.setattr(heldout.HeldOutScores, "_score", by_learning_rate)
    before = {r.id for r in runs.all_runs(small_ws)}
    run = search(
        settings(tiny_llm, max_pairs=16, epochs=2, score_questions=4),
        small_ws,
        ["learning_rate=1e-3,5e-3,1e-2"],
        progress=False,
    )
    new = [r for r in runs.all_runs(small_ws) if r.id not in before]
    probes = [r for r in new if r.config.get("probe")]
    assert len(probes) == 3 and all(p.config["tune"]["epochs"] == 1 for p in probes)
    # a quarter of the examples, as many whatever the recipe makes of the pairs, and recorded to resume with
    assert all(
        p.metrics["examples"] == run.metrics["examples"] // 4 and p.config["plan"]["share"] == 0.25 for p in probes
    )
    assert run.config["tune"]["learning_rate"] == 5e-3 and run.config["search"]["chosen"] == {"learning_rate": 5e-3}
    assert run.config["tune"]["epochs"] == 2 and run.config["tune"]["max_pairs"] == 16  # the real run, as asked
    assert [t["both"]["contains"] for t in run.config["search"]["tried"]] == [0.2, 0.6, 0.4]
    assert runs.latest_finished(small_ws).id == run.id  # type: ignore[union-attr]  # a probe never answers
    assert all(p.id not in {r.id for r in runs.finished_runs(small_ws)} for p in probes)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["learning_rate=1e-3"], "give two values or more"),
        (["epochs=1,2"], "epochs is not searched: every run keeps its best epoch"),
        (["warmup=1,2"], "'warmup' is not a tuning setting"),
        (["lora_r=8,big"], "every value of lora_r must be a whole number"),
        (["recipe=raft,open-book"], "recipe must be one of"),
    ],
)
def test_a_search_that_cannot_run_is_one_sentence_before_any_training(specs: list[str], message: str) -> None:
    from assistant.search import candidates

    with pytest.raises(ValueError, match=message):
        candidates(specs)


def test_the_search_grid_is_every_combination() -> None:
    from assistant.search import candidates

    grid = candidates(["learning_rate=1e-3,2e-3", "raft-p=0.8,1.0"])
    assert grid == [
        {"learning_rate": 1e-3, "raft_p": 0.8},
        {"learning_rate": 1e-3, "raft_p": 1.0},
        {"learning_rate": 2e-3, "raft_p": 0.8},
        {"learning_rate": 2e-3, "raft_p": 1.0},
    ]
