# ahabench: every target installs what it needs first, so `make eval` / `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ahabench-installed
OUT    ?= runs

.PHONY: setup vulkan lint test test-fast eval bench ci-gate ci-reference fixed-reference reference reference-dynamic reference-openloop clean help

help:
	@echo "make eval   - install, then run 'ahabench eval --policy aha-wam --tasks all' on the shipped defaults"
	@echo "make test   - install, then run the test suite"
	@echo "make lint   - install, then run ruff over the repository (rules in pyproject.toml; CI runs it first)"
	@echo "make bench  - install, then write task and model speed benchmarks to $(OUT)/bench/"
	@echo "make ci-gate [CKPT=DIR] - small fixed evals (expert, aha-wam or its checkpoint DIR), each episode checked"
	@echo "              against results/reference/ci/ with ahabench regress (exact mode: any change fails)"
	@echo "make ci-reference - write results/reference/ci/ again (after an intended change: a new checkpoint, task code)"
	@echo "make fixed-reference - write tests/data/fixed_runs/ again (expert and aha-wam, 3 tasks, every mode; after an intended change)"
	@echo "make reference - the committed reference grid (robotwin, clean, 4 WAM policies x 2 modes) and its comparisons"
	@echo "make reference-dynamic - the dynamic suite's expert frozen/blocking/async across 0-400 ms per motion level"
	@echo "make reference-openloop - open-loop action error of the shipped checkpoints on held-out demos"
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

# Lint (rules and the per-file exceptions in pyproject.toml [tool.ruff]); checks only, never rewrites files.
lint: setup
	$(BIN)/ruff check .

test: setup
	$(BIN)/pytest -q

test-fast: setup
	$(BIN)/pytest -q -m "not slow"

# The shipped defaults: 10 episodes per task on expert-solvable eval seeds, rtx5090d-paper profile, async mode.
eval: setup
	$(BIN)/ahabench eval --policy aha-wam --tasks all --workers 2 --out $(OUT)/eval-aha-wam

# The byte-identical behaviour pins of tests/test_fixed_runs.py: expert and aha-wam on the gate's tasks, seed 100000,
# every mode. Only after an intended change (task code, checkpoint, clock semantics).
FIXED_REF := tests/data/fixed_runs
fixed-reference: setup
	@for p in expert aha-wam; do for m in frozen blocking async; do \
	  rm -rf $(OUT)/fixed/$$p-$$m; \
	  $(BIN)/ahabench eval -p $$p -m $$m -t $(GATE_TASKS) --seeds 100000 --out $(OUT)/fixed/$$p-$$m || exit 1; \
	  cp $(OUT)/fixed/$$p-$$m/episodes.jsonl $(FIXED_REF)/$${p}_$$m.jsonl; \
	done; done

# CI regression gate: a small fixed eval (explicit seeds, so no expert seed search) of the scripted expert and of
# aha-wam (the shipped checkpoint, or CKPT=DIR), each checked against its committed reference with `ahabench
# regress`. Both sides are deterministic runs (rtx5090d-paper profile) on the same seeds, so regress compares every
# episode exactly (success, t_success, errors, a digest of the executed actions) and fails on any change; a run
# under other seeds, tasks, mode or profile is refused (exit 2). After an intended change: make ci-reference.
# ~2-3 min on 2 cores.
GATE_SEEDS := 100000,100001
GATE_TASKS := click_bell,move_can_pot,beat_block_hammer
GATE_REF   := results/reference/ci
CKPT       ?=
GATE_CKPT  := $(if $(CKPT),--checkpoint $(CKPT))
ci-gate: setup
	rm -rf $(OUT)/ci-gate
	$(BIN)/ahabench eval --policy expert --tasks $(GATE_TASKS) --seeds $(GATE_SEEDS) --workers 2 --out $(OUT)/ci-gate/expert
	$(BIN)/ahabench regress $(OUT)/ci-gate/expert --reference $(GATE_REF)/expert.json
	$(BIN)/ahabench eval --policy aha-wam $(GATE_CKPT) --tasks $(GATE_TASKS) --seeds $(GATE_SEEDS) --workers 2 --out $(OUT)/ci-gate/aha-wam
	$(BIN)/ahabench regress $(OUT)/ci-gate/aha-wam --reference $(GATE_REF)/aha-wam.json

# The gate's references, from the same evals on the shipped code and checkpoint (commit the two JSON files).
ci-reference: setup
	rm -rf $(OUT)/ci-reference
	$(BIN)/ahabench eval --policy expert --tasks $(GATE_TASKS) --seeds $(GATE_SEEDS) --workers 2 --out $(OUT)/ci-reference/expert
	$(BIN)/ahabench regress $(OUT)/ci-reference/expert --write-reference $(GATE_REF)/expert.json
	$(BIN)/ahabench eval --policy aha-wam --tasks $(GATE_TASKS) --seeds $(GATE_SEEDS) --workers 2 --out $(OUT)/ci-reference/aha-wam
	$(BIN)/ahabench regress $(OUT)/ci-reference/aha-wam --write-reference $(GATE_REF)/aha-wam.json

# Reference results (results/reference/robotwin/): the robotwin suite, clean, REF_EPISODES episodes per task on the
# expert-solvable eval seeds, rtx5090d-paper profile; each WAM policy in its default mode (fast-wam blocking, the
# others async) and in frozen mode. Interrupted runs resume, and a larger REF_EPISODES extends the runs in place.
# ~20-40 min per policy and mode on 2 cores (failed episodes run to their step limit).
REF          ?= results/reference/robotwin
REF_EPISODES ?= 20
REF_POLICIES := aha-wam aha-wam-flash naive-async fast-wam
reference: setup
	for p in $(REF_POLICIES); do \
	  $(BIN)/ahabench eval -p $$p -t robotwin -n $(REF_EPISODES) -w 2 --resume --out $(REF)/$$p || exit 1; \
	  $(BIN)/ahabench eval -p $$p -t robotwin -n $(REF_EPISODES) -m frozen -w 2 --resume --out $(REF)/$$p-frozen || exit 1; \
	done
	$(BIN)/ahabench compare $(REF_POLICIES) --runs $(REF)/aha-wam --runs $(REF)/aha-wam-flash --runs $(REF)/naive-async \
	  --runs $(REF)/fast-wam --out $(REF)/compare --markdown
	$(BIN)/ahabench compare $(REF_POLICIES) --runs $(REF)/aha-wam-frozen --runs $(REF)/aha-wam-flash-frozen \
	  --runs $(REF)/naive-async-frozen --runs $(REF)/fast-wam-frozen --out $(REF)/compare-frozen --markdown

# The dynamic suite's reference result (results/reference/dynamic/): the scripted expert frozen, blocking and async
# (execute_len 8) at fixed call latencies 0-400 ms, for each motion level, on the same 10 eval seeds per task.
# Writes the sweeps under $(OUT)/reference-dynamic and copies grid.csv / grid.png. ~20 min on 2 cores.
DYN_REF   ?= results/reference/dynamic
DYN_SEEDS ?= 100000,100001,100002,100003,100004,100005,100006,100007,100008,100009
reference-dynamic: setup
	$(BIN)/ahabench sweep-grid -p expert -t dynamic --delays-ms 0,100,200,300,400 --modes frozen,blocking,async \
	  --vary level=1,2,3 -P execute_len=8 --seeds $(DYN_SEEDS) -w 2 -o $(OUT)/reference-dynamic
	mkdir -p $(DYN_REF) && cp $(OUT)/reference-dynamic/grid.csv $(OUT)/reference-dynamic/grid.png $(DYN_REF)/

# Open-loop fit of the shipped checkpoints (results/reference/openloop/): their action error on 5 held-out clean
# demos of every robotwin task (seeds from 10000 up: no checkpoint trained on them, and they are neither validation
# seeds, 5000+, nor evaluation seeds, 100000+), beside holding the current joint position. ~2 min on 2 cores.
OPENLOOP_DEMOS ?= $(OUT)/demos-heldout
reference-openloop: setup
	$(BIN)/ahabench collect -t robotwin -n 5 -w 2 --first-seed 10000 -o $(OPENLOOP_DEMOS)
	for p in $(REF_POLICIES); do \
	  $(BIN)/ahabench openloop -p $$p --data $(OPENLOOP_DEMOS) -t robotwin -o results/reference/openloop/$$p || exit 1; \
	done

bench: setup
	$(BIN)/ahabench bench --out $(OUT)/bench

clean:
	rm -rf $(OUT) .pytest_cache
