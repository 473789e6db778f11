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

.PHONY: venv sysdeps demo test test-all bench sample clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build (anything else pulls a multi-GB CUDA build)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# system packages the report tests read the report with (Debian's headless Chromium and CJK fonts), as root
sysdeps:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto sans cjk" || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
	  else echo "koe: the report tests need Debian's chromium and fonts-noto-cjk:" \
	    "run as root: apt-get install -y chromium fonts-noto-cjk" >&2; exit 1; fi; }

demo: venv
	$(BIN)/koe run --config $(CONFIG) --replay weekly

# two xdist workers (2 cores); tests that read the sample's session-built stores share one (tests/conftest.py)
TEST_WORKERS ?= 2

test: venv sysdeps
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

test-all: venv sysdeps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m ""

bench: venv sysdeps
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.speed
	$(BIN)/python -m bench.nightly
	$(BIN)/python -m bench.nightly --config bilingual.yaml
	$(BIN)/python -m bench.runners
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.onnx
	$(BIN)/python -m bench.sentiment
	$(BIN)/python -m bench.stages
	$(BIN)/python -m bench.names
	$(BIN)/python -m bench.delta_nights
	$(BIN)/python -m bench.bilingual bilingual_cx banking77
	$(BIN)/python -m bench.ceilings
	$(BIN)/python -m bench.taxonomy
	$(BIN)/python -m bench.pii_redaction
	$(BIN)/python -m bench.report
	$(BIN)/koe run --config $(CONFIG) --replay weekly && $(BIN)/python -m bench.screens

sample: venv
	$(BIN)/python data/sample/generate.py

clean:
	rm -rf out .pytest_cache

