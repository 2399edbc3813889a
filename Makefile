PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-all bench bench-training docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m spikesde._experiments.demo

# The suite runs in two pytest processes (one process compiling every test's programs crashed
# XLA's compiler, see tests/conftest.py), side by side: most of the time is single-threaded XLA
# compilation, so two processes use both cores of a 2-core machine. Each one's output is printed
# when both are done; the target fails if either does. The split balances the two (per-file times
# with --durations=0 on 2026-12-05: 713 s and 695 s); every test file matches exactly one glob.
TEST_ARGS := -m "not slow" -q --durations=15
FIRST_TESTS := tests/test_[a-k]*.py tests/test_li*.py
SECOND_TESTS := tests/test_lo*.py tests/test_[m-z]*.py
test: $(STAMP)
	@logs=$$(mktemp -d); \
	$(BIN)/python -m pytest $(TEST_ARGS) $(FIRST_TESTS) > $$logs/first.log 2>&1 & first=$$!; \
	$(BIN)/python -m pytest $(TEST_ARGS) $(SECOND_TESTS) > $$logs/second.log 2>&1; second=$$?; \
	wait $$first; first=$$?; \
	echo "== $(FIRST_TESTS) (exit $$first)"; cat $$logs/first.log; \
	echo "== $(SECOND_TESTS) (exit $$second)"; cat $$logs/second.log; \
	rm -r $$logs; test $$first -eq 0 && test $$second -eq 0

test-all: $(STAMP)
	$(BIN)/python -m pytest -q $(FIRST_TESTS)
	$(BIN)/python -m pytest -q $(SECOND_TESTS)

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
