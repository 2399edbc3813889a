PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-all lint bench bench-training docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m spikesde._experiments.demo

# The suite runs on two pytest-xdist workers, one test file at a time each (a file's module fixtures
# and compiled programs stay in one process); a worker takes the next file when it is done, so the
# cores stay busy to the end. Most of the time is single-threaded XLA compilation. Each worker drops
# compiled programs after every module (tests/conftest.py: one process keeping them all crashed XLA).
# WORKERS=1 runs in one process.
WORKERS ?= 2
TEST_ARGS := -q --durations=15 -n $(WORKERS) --dist loadfile
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(TEST_ARGS) tests

test-all: $(STAMP)
	$(BIN)/python -m pytest $(TEST_ARGS) tests

# ruff (rules and scope in pyproject.toml's [tool.ruff]); the format check covers the files listed in
# FORMATTED (the tree is not yet formatted as a whole); mypy checks the public API ([tool.mypy]).
FORMATTED := spikesde/_losses/paths.py spikesde/_losses/spike_signature.py spikesde/_gradients/check.py tests/conftest.py \
	benchmarks/kernel_accuracy.py
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check $(FORMATTED)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/simulate.py
	$(BIN)/python benchmarks/gradients.py
	$(BIN)/python benchmarks/gradient_convergence.py
	$(BIN)/python benchmarks/network_scaling.py --quick
	$(BIN)/python benchmarks/signatures.py
	$(BIN)/python benchmarks/low_precision.py
	$(BIN)/python benchmarks/intensity_safety.py
	$(BIN)/python benchmarks/io_formats.py
	$(BIN)/python benchmarks/yinyang.py speed

# Training runs behind the README's tables (minutes to an hour each on 2 CPU cores).
bench-training: $(STAMP)
	$(BIN)/python benchmarks/fit_acceptance.py b
	$(BIN)/python benchmarks/fit_acceptance.py c
	$(BIN)/python benchmarks/network_training.py
	$(BIN)/python benchmarks/hardware_fit.py
	$(BIN)/python benchmarks/yinyang.py em-table

# The documentation site into site/ (warnings, broken links and unresolved references fail it).
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) build site *.egg-info
