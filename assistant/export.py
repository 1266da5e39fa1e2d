"""`docent export DIR`: a run's adapter merged into its base model, as a folder plain transformers loads.

AutoModelForCausalLM.from_pretrained(DIR); AutoTokenizer.from_pretrained(DIR)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.runs import Run


def export_merged(run: Run, target: Path) -> Path:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} is a file; give a new folder to export into")
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty; give a new folder to export into")
    from ingest.models import resolve_llm

    base = AutoModelForCausalLM.from_pretrained(resolve_llm(run.config["tune"]["llm"]))
    tokenizer = AutoTokenizer.from_pretrained(str(run.adapter))
    embeddings: Any = base.get_input_embeddings()
    if len(tokenizer) > embeddings.num_embeddings:  # a padding token was added for training
        base.resize_token_embeddings(len(tokenizer))
    merged = PeftModel.from_pretrained(base, str(run.adapter)).merge_and_unload()
    target.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    return target
