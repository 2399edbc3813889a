PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-all bench bench-training clean

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
# when both are done; the target fails if either does.
TEST_ARGS := -m "not slow" -q --durations=15
test: $(STAMP)
	@logs=$$(mktemp -d); \
	$(BIN)/python -m pytest $(TEST_ARGS) tests/test_[a-l]*.py > $$logs/a-l.log 2>&1 & first=$$!; \
	$(BIN)/python -m pytest $(TEST_ARGS) tests/test_[m-z]*.py > $$logs/m-z.log 2>&1; second=$$?; \
	wait $$first; first=$$?; \
	echo "== tests/test_[a-l]*.py (exit $$first)"; cat $$logs/a-l.log; \
	echo "== tests/test_[m-z]*.py (exit $$second)"; cat $$logs/m-z.log; \
	rm -r $$logs; test $$first -eq 0 && test $$second -eq 0

test-all: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_[a-l]*.py
	$(BIN)/python -m pytest -q tests/test_[m-z]*.py

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

clean:
	rm -rf $(VENV) build *.egg-info
