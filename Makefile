# ahabench: every target installs what it needs first, so `make eval` / `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ahabench-installed
EPISODES ?= 20
OUT    ?= runs

# ManiSkill asks on stdin before downloading assets; ahabench uses only tasks that need none.
export MS_SKIP_ASSET_DOWNLOAD_PROMPT := 1

.PHONY: setup vulkan test test-fast eval bench ci-gate clean help

help:
	@echo "make eval   - install, then run 'ahabench eval --policy aha-wam --tasks all' on the shipped defaults"
	@echo "make test   - install, then run the test suite"
	@echo "make bench  - install, then write task and model speed benchmarks to $(OUT)/bench/"
	@echo "make setup  - only install (virtualenv, pinned packages, a Vulkan device for SAPIEN)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# SAPIEN renders through Vulkan even without a GPU; installs Mesa lavapipe on Debian 12 when missing.
vulkan: $(STAMP)
	bash scripts/ensure_vulkan.sh $(BIN)/python

setup: $(STAMP) vulkan

test: setup
	$(BIN)/pytest -q

test-fast: setup
	$(BIN)/pytest -q -m "not slow"

eval: setup
	$(BIN)/ahabench eval --policy aha-wam --tasks all --episodes $(EPISODES) --out $(OUT)/eval-aha-wam

bench: setup
	$(BIN)/ahabench bench --out $(OUT)/bench

clean:
	rm -rf $(OUT) .pytest_cache
