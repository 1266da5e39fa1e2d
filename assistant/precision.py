"""How the answering model runs fast on a CPU: the precision it runs in, weight-only int8, and attention for one
new token.

Int8: the model's linear layers keep their weights as int8 with one scale per output channel, and compute in bf16.

On a CPU, writing one token means reading every weight once, so decoding speed is the memory's bandwidth divided
by the weights' size: int8 reads half the bytes of bf16 and a quarter of float32's. Each new token goes through
PyTorch's int8 matrix-vector kernel (`_weight_int8pack_mm`, the one torchao and gpt-fast use); a long prompt is
read in one pass, where compute rather than memory is the limit, so its layers dequantise to bf16 first. Only the
weights are rounded, never the activations: an answer does not depend on which other questions share its batch,
which PyTorch's dynamic int8 quantisation does not promise (and which measured worse here: see README).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

ATTENTION = "docent_cpu"
PROMPT_ROWS = 16  # above this many tokens at once, dequantising and one bf16 matmul is faster than the int8 kernel


class Int8Linear(torch.nn.Module):
    weight: torch.Tensor
    scales: torch.Tensor

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scales = weight.abs().amax(dim=1).clamp(min=1e-8) / 127
        self.register_buffer("weight", torch.round(weight / scales[:, None]).to(torch.int8))
        self.register_buffer("scales", scales.to(torch.bfloat16))
        self.bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach().to(torch.bfloat16))
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).to(torch.bfloat16)
        if rows.shape[0] > PROMPT_ROWS:
            out = rows @ (self.weight.to(torch.bfloat16) * self.scales[:, None]).t()
        else:
            out = torch._weight_int8pack_mm(rows, self.weight, self.scales)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], self.out_features)


def quantize(model: Any) -> Any:
    """Replaces every linear layer of `model` in place (tied output weights get their own int8 copy) and moves the
    rest to bf16; returns the model."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, Int8Linear(child))
    return model.to(torch.bfloat16)


def one_token_attention(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention for a model that shares key/value heads among query heads (GQA, as SmolLM2 and Llama do): for one
    new token, the query heads of each group are read as a group's rows, so that attention runs on the cached keys
    as they are. transformers does this only without a mask, else expands the keys; on a CPU, the expanded
    attention took three times as long, a third of each token's time here. Prompts go to transformers' SDPA."""
    groups = getattr(module, "num_key_value_groups", 1)
    if query.shape[2] != 1 or groups == 1 or (attention_mask is not None and attention_mask.shape[1] != 1):
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    batch, heads, _, dim = query.shape
    packed = query.reshape(batch, heads // groups, groups, dim)
    out = torch.nn.functional.scaled_dot_product_attention(
        packed, key, value, attn_mask=attention_mask, scale=kwargs.get("scaling")
    )
    return out.reshape(batch, 1, heads, dim), None


PRECISIONS = ("auto", "int8", "bfloat16", "float32")


def choose() -> str:
    """`DOCENT_PRECISION`, else `auto`: bf16 on a GPU that has it; int8 on a CPU that computes bf16 natively
    (AVX512-BF16 or AMX), where it decodes 2.7 times as fast as float32 (bench/answer_speed.py); else float32."""
    from assistant.loader import bf16_training, torch_dtype
    from ingest.models import ModelError, device

    chosen = os.environ.get("DOCENT_PRECISION", "auto").lower()
    if chosen not in PRECISIONS:
        raise ModelError(f"DOCENT_PRECISION must be one of {', '.join(PRECISIONS)}, got {chosen!r}")
    if device() == "cuda":
        if chosen == "int8":
            raise ModelError("DOCENT_PRECISION=int8 runs on the CPU only; on a GPU use auto, bfloat16 or float32")
        return str(torch_dtype()).removeprefix("torch.") if chosen == "auto" else chosen
    if chosen == "auto":
        return "int8" if bf16_training() and hasattr(torch, "_weight_int8pack_mm") else "float32"
    return chosen


AttentionInterface.register(ATTENTION, one_token_attention)
AttentionMaskInterface.register(ATTENTION, sdpa_mask)  # without a mask function, padded batches would get none
