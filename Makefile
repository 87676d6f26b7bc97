# The two Quick start commands (see README) and the developer's checks.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Some shells set PYTHONDONTWRITEBYTECODE: every Python process then compiles nckh's modules
# from source again (0.2-0.4 s each), and the suite starts a few hundred (workers, daemons,
# console scripts). An installed nckh keeps its compiled files; so do these commands.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: start test lint install dev

$(BIN)/nckh: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/nckh

install: $(BIN)/nckh

# Quick start 1: install nckh into its own environment and run it on the embedded database.
start: install
	@bash deploy/quickstart.sh

# Quick start 2: install, lint, type-check and run the whole test suite (PostgreSQL included).
test: install
	@bash .ci/postgres-up
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
