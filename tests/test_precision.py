"""The CPU answering path: int8 weights stay close to the float ones, the one-token attention equals transformers'
own, and streaming on the calling thread gives what `generate` gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from assistant import precision
from assistant.generate import LLM
from assistant.prompt import base_messages
from ingest.models import ModelError


@pytest.mark.parametrize("rows", [1, 5, 40])  # the int8 kernel for new tokens, dequantising for prompts
def test_int8_linear_stays_close_to_the_float_layer(rows: int) -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(128, 96, bias=True)
    x = torch.randn(2, rows, 128)
    exact = linear(x)
    quantized = precision.Int8Linear(linear)
    assert quantized.weight.dtype == torch.int8 and quantized.weight.shape == (96, 128)
    out = quantized(x).float()
    assert out.shape == exact.shape
    assert ((out - exact).norm() / exact.norm()).item() < 0.02


def test_quantize_replaces_every_linear_layer(tiny_llm: Path) -> None:
    from transformers import AutoModelForCausalLM

    model = precision.quantize(AutoModelForCausalLM.from_pretrained(tiny_llm))
    assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())
    assert sum(isinstance(m, precision.Int8Linear) for m in model.modules()) > 0


class Module(torch.nn.Module):
    num_key_value_groups = 3
    is_causal = True


@pytest.mark.parametrize("padded", [False, True])
def test_one_token_attention_equals_transformers_sdpa(padded: bool) -> None:
    torch.manual_seed(0)
    query, key, value = torch.randn(2, 9, 1, 16), torch.randn(2, 3, 7, 16), torch.randn(2, 3, 7, 16)
    mask = None
    if padded:  # the first sequence is left-padded by two tokens, as in a batch
        mask = torch.ones(2, 1, 1, 7, dtype=torch.bool)
        mask[0, :, :, :2] = False
    ours, _ = precision.one_token_attention(Module(), query, key, value, mask, scaling=0.25)
    theirs, _ = sdpa_attention_forward(Module(), query, key, value, mask, scaling=0.25)
    assert ours.shape == theirs.shape == (2, 1, 9, 16)
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_the_model_with_docent_attention_equals_sdpa_on_a_padded_batch(tiny_llm: Path) -> None:
    """Prompt and new token, with left padding: the logits of every real token are transformers' own."""
    from transformers import AutoModelForCausalLM

    ours = AutoModelForCausalLM.from_pretrained(tiny_llm, attn_implementation=precision.ATTENTION)
    theirs = AutoModelForCausalLM.from_pretrained(tiny_llm, attn_implementation="sdpa")
    ids = torch.tensor([[0, 0, 0, 11, 12, 13], [21, 22, 23, 24, 25, 26]])
    mask = (torch.arange(6) >= torch.tensor([[3], [0]])).long()
    with torch.inference_mode():
        prompt = [m(input_ids=ids, attention_mask=mask, use_cache=True) for m in (ours, theirs)]
        assert torch.allclose(prompt[0].logits[0, 3:], prompt[1].logits[0, 3:], atol=1e-5)
        step = torch.tensor([[31], [32]])
        mask = torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], dim=1)
        new = [m(input_ids=step, attention_mask=mask, cache=p.cache) for m, p in zip((ours, theirs), prompt)]
        assert torch.allclose(new[0].logits, new[1].logits, atol=1e-5)


def test_precision_is_a_setting_with_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("DOCENT_PRECISION", "float32")
    assert precision.choose() == "float32"
    monkeypatch.setenv("DOCENT_PRECISION", "int4")
    with pytest.raises(ModelError, match="DOCENT_PRECISION must be one of"):
        precision.choose()


@pytest.mark.parametrize("chosen", ["float32", "int8"])
def test_streamed_and_batched_answers_equal(tiny_llm: Path, monkeypatch, chosen: str) -> None:
    """A question streamed alone gets the answer it gets in a batch, where shorter prompts are padded."""
    if chosen == "int8" and precision.choose() != "int8":
        pytest.skip("this CPU has no native bf16, so int8 is not used here")
    monkeypatch.setenv("DOCENT_PRECISION", chosen)
    llm = LLM(str(tiny_llm))
    assert llm.precision == chosen
    questions = ["Where?", "Who replaces lost badges at the front desk of the north building on weekends?"]
    batched = llm.generate_batch([base_messages(q) for q in questions], max_new_tokens=16)
    for question, together in zip(questions, batched):
        alone, timing = llm.generate(base_messages(question), max_new_tokens=16)
        assert alone == together and timing.tokens > 0
