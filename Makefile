# koe: `make demo` builds .venv if missing and writes a report from the bundled sample; `make test` runs the suite.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= configs/default.yaml

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: venv demo test test-all bench sample clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build (anything else pulls a multi-GB CUDA build)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/koe run --config $(CONFIG) --replay weekly

test: venv
	$(BIN)/python -m pytest

test-all: venv
	$(BIN)/python -m pytest -m ""

bench: venv
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.speed
	$(BIN)/python -m bench.nightly
	$(BIN)/python -m bench.nightly --config bilingual.yaml
	$(BIN)/python -m bench.runners
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.onnx
	$(BIN)/python -m bench.bilingual bilingual_cx banking77
	$(BIN)/python -m bench.report

sample: venv
	$(BIN)/python data/sample/generate.py

clean:
	rm -rf out .pytest_cache

