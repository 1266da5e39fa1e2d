"""Settings for answering (`docent ask`, `docent search`): one field, one line of help; CLI flags come from here."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import Field, dataclass, field
from typing import Any

FUSIONS = ("rrf", "dense", "bm25")
MODES = ("base", "tuned", "retrieval", "both")  # tuned and both use the fine-tuned adapter
READS_SOURCES = ("retrieval", "both")
USES_ADAPTER = ("tuned", "both")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # names that reach only this machine
LLM_TIMEOUT_S = 120.0  # seconds a model server (--llm-url) may take to begin an answer; a loaded CPU server needs more
MODEL_PREFIX = "docent-"  # the API names a mode's model docent-<mode>, and docent-<mode>:<run> for a run's adapter
TRAINING_SETS = ("closed-book", "raft", "mixed")  # what data.build makes examples of
RECIPES = (*TRAINING_SETS, "staged")  # staged: closed-book epochs, then raft ones (tune.py)
PLAIN_TEXT_FORMS = ("chunk", "sentences", "reordered")  # continued pre-training's copies of a chunk (data.plain_text)
TRACKERS = ("none", "tensorboard", "mlflow")  # Trainer's own integrations
# A question is refused past this length: room for a pasted error message (about 1,000 tokens), while a 100 KB
# question (18,201 tokens, over the embedded model's 8,192) held the model for minutes and answered garbage.
MAX_QUESTION_CHARS = 4_000
MAX_CONVERSATION_CHARS = 40_000  # the earlier turns a follow-up comes with, all together


def value_type(f: Field[Any]) -> Callable[[str], Any]:
    """How a setting written as text ('1e-3', '3') becomes its field's type: the one place that knows, for the CLI's
    flags, `--search` and the benchmarks (the dataclasses' types are strings, under `from __future__`)."""
    return {"int": int, "float": float}.get(str(f.type), str)


def check_question(question: str, history: list[tuple[str, str]] | None = None) -> str:
    """The question, stripped; a sentence (ValueError) when it is empty or too long, before any model time."""
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(
            f"the question is {len(question):,} characters long, over the limit of "
            f"{MAX_QUESTION_CHARS:,}: ask it in fewer words"
        )
    if history and sum(len(q) + len(a) for q, a in history) > MAX_CONVERSATION_CHARS:
        raise ValueError(
            f"the conversation is over {MAX_CONVERSATION_CHARS:,} characters long: start a new conversation"
        )
    return question


def llm_timeout(given: float | None = None) -> float:
    """Seconds a model server may take to begin an answer: `--llm-timeout`, else DOCENT_LLM_TIMEOUT, else
    LLM_TIMEOUT_S."""
    raw = given if given is not None else os.environ.get("DOCENT_LLM_TIMEOUT") or LLM_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"--llm-timeout (DOCENT_LLM_TIMEOUT) must be a number of seconds above 0, got {raw!r}")
    return seconds


@dataclass
class AnswerConfig:
    llm: str = field(
        default=os.environ.get("DOCENT_LLM", "embedded"),
        metadata={"help": "LLM: 'embedded' (SmolLM2-135M-Instruct), a local folder or a hub id"},
    )
    llm_url: str = field(
        default=os.environ.get("DOCENT_LLM_URL", ""),
        metadata={
            "help": "an OpenAI-compatible model server that answers instead of a model loaded here (vLLM, Ollama), "
            "e.g. http://localhost:8000/v1; its key in DOCENT_LLM_KEY"
        },
    )
    top_k: int = field(  # the embedded 135M model answered film questions best from one chunk (README)
        default=1, metadata={"help": "chunks given to the model; more context confuses a small model"}
    )
    fusion: str = field(default="rrf", metadata={"help": "ranking: rrf (dense + BM25 fused), dense or bm25"})
    max_new_tokens: int = field(default=160, metadata={"help": "longest answer, in tokens"})
    # bench/relevance.py, embedded embedder: at 0.40 the gate keeps 58 of the 60 answerable sample questions (the
    # two it turns away retrieval got wrong anyway) and 299 of 300 film ones, turns away every question about the
    # other corpus (the closest reach 0.32 and 0.24), and 46 of the 100 gaps in the sample company's documents.
    # 0.35 would keep all 60 but turn away only 38 of those gaps.
    min_relevance: float = field(
        default=0.40,
        metadata={
            "help": "a question whose closest chunk is less similar than this (cosine) is not asked of the "
            "model: the documents don't cover it; 0 asks every question"
        },
    )
    # bench/relevance.py: of the 100 gaps in the sample company's documents, names no document mentions turn away
    # 15 more than the similarity alone (the Pelican P7, Harbor 4.5, SAP, ...), names the passages found do not
    # mention 10 more ("What's new in Harbor 5.0?", a version that only other release notes hold): 71 in all.
    check_names: bool = field(
        default=True,
        metadata={
            "help": "a question naming what neither the documents nor the passages found for it mention (a place, "
            "a product, a version: a capitalised word inside a sentence, or a code with digits) is not asked of "
            "the model"
        },
    )
    # bench/relevance.py: the closest sentence reads finer than the closest chunk. At 0.50 the gate turns away 84 of
    # the 100 gaps (71 without this check) and keeps 54 of the 60 answerable sample questions (57 without) and 297
    # of 300 film ones (299). `docent eval` with and without the gate: retrieval's `contains` on the sample's
    # answerable questions 0.250 against 0.267, `both` 0.350 against 0.350 (README, "What answers stand on").
    min_sentence_relevance: float = field(
        default=0.50,
        metadata={
            "help": "a question that no sentence of the passages found comes this close to (cosine) is not "
            "asked of the model; 0 turns this check off"
        },
    )

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, got {self.fusion!r}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if not 0.0 <= self.min_relevance < 1.0:
            raise ValueError(f"min_relevance must be from 0 up to 1, got {self.min_relevance}")
        if not 0.0 <= self.min_sentence_relevance < 1.0:
            raise ValueError(f"min_sentence_relevance must be from 0 up to 1, got {self.min_sentence_relevance}")


@dataclass
class TuneConfig:
    llm: str = field(
        default=os.environ.get("DOCENT_LLM", "embedded"),
        metadata={"help": "base model to adapt: 'embedded' (SmolLM2-135M-Instruct), a local folder or a hub id"},
    )
    recipe: str = field(
        default="mixed",
        metadata={
            "help": "training data: closed-book (question only), raft (question + retrieved chunks), mixed, "
            "or staged (closed-book to learn the facts, then raft to read)"
        },
    )
    # Chosen on the film benchmark's own questions (README, "What each change to tuning did"): one epoch at 1e-3,
    # rank 16, 16 examples an update makes `both` answer 0.620 against retrieval's 0.533 (300 questions), in about
    # 25 min. Twice the rate and three epochs (2e-3, rank 32, 8 an update) put more facts in the model (`tuned`
    # 0.417 after six closed-book epochs) but made the adapter garble the names it copies ("Columb Pictures"), and
    # `both` fell to 0.477, below retrieval. More epochs are scored and kept only if they do better; two at these
    # settings answered film's questions no better (`both` 0.647 against 0.62 to 0.65) in twice the time (README).
    epochs: float = field(default=1.0, metadata={"help": "passes over the training pairs; more = more facts learnt"})
    learning_rate: float = field(
        default=1e-3, metadata={"help": "peak learning rate; higher puts more facts in, and reads sources worse"}
    )
    lora_r: int = field(default=16, metadata={"help": "LoRA rank: capacity of the adapter"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scale (alpha / r multiplies the update)"})
    # 0: without a dropout mask drawn for every LoRA input, a CPU step trains 1.42 times as fast (bench/train_speed.py)
    lora_dropout: float = field(default=0.0, metadata={"help": "dropout on the LoRA input"})
    target_modules: str = field(
        default="all-linear", metadata={"help": "layers that get adapters: all-linear, or names like q_proj,v_proj"}
    )
    # Backward stops at the lowest adapted layer: the top 15 of SmolLM2's 30 train 1.19 times as fast, but learn fewer
    # facts (film `tuned` 0.177 against 0.223 with every layer; README, ablation table).
    lora_layers: int = field(
        default=0, metadata={"help": "adapt only this many layers, counted from the top (0 = every layer)"}
    )
    batch_size: int = field(default=8, metadata={"help": "examples per step on each device"})
    grad_accum: int = field(default=2, metadata={"help": "steps whose gradients add up before an update"})
    max_length: int = field(
        default=1024, metadata={"help": "longest example in tokens; longer ones are counted, left out"}
    )
    raft_k: int = field(
        default=AnswerConfig.top_k, metadata={"help": "chunks in a raft example's context (as many as answering reads)"}
    )
    # 1.0 (every example reads its own source) answered film's questions no better: `both` 0.623 against 0.633 (README)
    raft_p: float = field(default=0.8, metadata={"help": "share of raft examples whose context holds the source"})
    # Off by default: 1.0 made `both` abstain on 0.895 of the sample corpus's unanswerable questions (0.730 at 0) at
    # the same `contains`, but on the film set, whose unanswerable questions the relevance gate already turns away,
    # it only cost: `both` 0.607 against 0.620, 26 of 300 answerable questions answered "The documents don't say."
    # (README, "Questions the documents do not answer").
    raft_abstain: float = field(
        default=0.0,
        metadata={
            "help": 'share of the raft examples without their source that answer "The documents don\'t say." '
            "instead of the answer from memory"
        },
    )
    plain_text: str = field(
        default="",
        metadata={
            "help": "also train each trained chunk's own text as plain next-token text (continued pre-training), in "
            "these forms, comma-separated: chunk (as it stands), sentences (each alone, after its document and "
            "section), reordered (its sentences in another order); empty = none"
        },
    )
    max_pairs: int = field(default=0, metadata={"help": "train on a seeded sample of this many pairs (0 = all)"})
    save_steps: int = field(default=50, metadata={"help": "a checkpoint every this many updates (and on Ctrl-C)"})
    score_questions: int = field(
        default=100,
        metadata={"help": "held-out questions answered each epoch to keep the best epoch and stop early (0 = off)"},
    )
    check_questions: str = field(
        default="",
        metadata={
            "help": "JSONL of your own questions (question, answer) to score each epoch on, in place of "
            "Docent's held-out ones, which favour the adapter that learnt their wording"
        },
    )
    patience: int = field(default=1, metadata={"help": "epochs in a row without a better held-out score before a stop"})
    time_budget: float = field(
        default=0.0,
        metadata={"help": "minutes the run may take, scoring included: fewer epochs, then fewer pairs (0 = no limit)"},
    )
    report_to: str = field(
        default="none", metadata={"help": "also send the training curves to: none, tensorboard or mlflow"}
    )
    read_epochs: float = field(default=1.0, metadata={"help": "staged: raft epochs after the closed-book ones"})
    read_learning_rate: float = field(default=1e-3, metadata={"help": "staged: peak learning rate of the raft epochs"})
    read_grad_accum: int = field(default=2, metadata={"help": "staged: steps an update in the raft epochs"})
    start_from: str = field(
        default="", metadata={"help": "a run whose adapter this one goes on training (its rank and layers are kept)"}
    )
    collections: str = field(
        default="",
        metadata={
            "help": "train on these collections alone (comma-separated), so that people who may not read the "
            "others may use the adapter; empty = every collection"
        },
    )
    seed: int = field(default=13, metadata={"help": "seed for sampling, shuffling and initialisation"})

    def __post_init__(self) -> None:
        if self.report_to not in TRACKERS:
            raise ValueError(f"report_to must be one of {', '.join(TRACKERS)}, got {self.report_to!r}")
        if self.time_budget < 0:
            raise ValueError(f"time_budget must be 0 (no limit) or a number of minutes, got {self.time_budget}")
        if self.recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, got {self.recipe!r}")
        if self.epochs <= 0 or self.learning_rate <= 0:
            raise ValueError("epochs and learning_rate must be positive")
        if (
            min(
                self.lora_r,
                self.lora_alpha,
                self.batch_size,
                self.grad_accum,
                self.raft_k,
                self.save_steps,
                self.patience,
            )
            < 1
        ):
            raise ValueError(
                "lora_r, lora_alpha, batch_size, grad_accum, raft_k, save_steps and patience must be at least 1"
            )
        if self.lora_layers < 0:
            raise ValueError(f"lora_layers must be 0 (every layer) or a number of layers, got {self.lora_layers}")
        if self.score_questions < 0:
            raise ValueError(f"score_questions must be 0 or more, got {self.score_questions}")
        if not 0 <= self.raft_p <= 1 or not 0 <= self.raft_abstain <= 1 or not 0 <= self.lora_dropout < 1:
            raise ValueError("raft_p and raft_abstain must be within [0, 1], lora_dropout within [0, 1)")
        unknown = set(self.plain_forms) - set(PLAIN_TEXT_FORMS)
        if unknown:
            raise ValueError(
                f"plain_text takes {', '.join(PLAIN_TEXT_FORMS)} (comma-separated), got {', '.join(sorted(unknown))}"
            )
        if self.max_length < 64:
            raise ValueError(f"max_length must be at least 64, got {self.max_length}")

    @property
    def plain_forms(self) -> tuple[str, ...]:
        return tuple(f.strip() for f in self.plain_text.split(",") if f.strip())
