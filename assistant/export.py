"""`docent export DIR`: a run's adapter merged into its base model, as a folder plain transformers loads.

AutoModelForCausalLM.from_pretrained(DIR); AutoTokenizer.from_pretrained(DIR)
"""

from __future__ import annotations

from pathlib import Path

from assistant.runs import Run


def export_merged(run: Run, target: Path) -> Path:
    import torch

    from assistant import loader

    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} is a file; give a new folder to export into")
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty; give a new folder to export into")
    tokenizer, merged = loader.load(run.settings.llm, torch.float32, run.adapter)  # the run's tokenizer, merged
    target.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    return target
