# llmarch — `make serve` and `make test` each set everything up first (a .venv here).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= test
# Dates in the built site come from the last commit, so rebuilds are identical.
export NO_MKDOCS_2_WARNING := 1
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: help setup serve test test-reference lint site snippets clean

help:
	@echo "make serve     set up, build and serve the site at http://127.0.0.1:8000"
	@echo "make test      set up and run every check (lint, tests, snippets, strict build)"
	@echo "make test-reference  check llmarch.GPT against Hugging Face transformers (installs CPU torch)"
	@echo "make site      strict build into site/"
	@echo "make snippets  refresh the #> output lines of snippets after an intentional change"
	@echo "make clean     remove site/, caches and .venv"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

setup: $(STAMP)

serve: setup
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

test: setup lint
	$(BIN)/pytest

# The reference check: llmarch.GPT against transformers' GPT2LMHeadModel. Its extra (CPU torch,
# transformers, safetensors) is installed on demand, so `make test` never needs torch.
REF_STAMP := $(VENV)/.installed-reference

$(REF_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[reference]"
	touch $@

test-reference: $(REF_STAMP)
	$(BIN)/pytest tests/reference

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

site: setup
	$(BIN)/mkdocs build --strict --site-dir site

snippets: setup
	$(BIN)/python docs/hooks/snippet_check.py --update

clean:
	rm -rf site .pytest_cache .ruff_cache .hypothesis $(VENV)
