# Two commands set everything up on a fresh machine with Python 3.11:
#   make bench   the canonical benchmark (full profile, 5 seeds), prints its table
#   make test    the test suite (pytest -n auto)
# Both create .venv and install prunebench with TensorFlow $(TF) the first time.

PYTHON ?= python3.11
VENV   ?= .venv
TF     ?= 2.21
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-tf$(TF)
# uv installs the same pinned versions in a fraction of pip's time (docs/getting-started.md);
# without uv on PATH (or with UV=), pip does it. --seed puts pip in the environment too:
# tox and a few tests call `python -m pip`. --compile-bytecode writes the .pyc files pip
# writes by default and uv does not: where PYTHONDONTWRITEBYTECODE is set (the development
# host sets it), no import ever writes them, and every process importing TensorFlow compiled
# its ~1,800 modules again: 14.7 s per `import tensorflow` there instead of 4.8.
UV     ?= $(shell command -v uv 2>/dev/null)
ifeq ($(strip $(UV)),)
MKVENV  = $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip
INSTALL = $(BIN)/python -m pip install --quiet
else
MKVENV  = $(UV) venv --quiet --seed --allow-existing --python $(PYTHON) $(VENV)
INSTALL = VIRTUAL_ENV=$(abspath $(VENV)) $(UV) pip install --quiet --compile-bytecode
endif

.PHONY: install bench test gate baselines lint type clean

install: $(STAMP)

EXAMPLE := examples/prunebench-example-task

$(STAMP): pyproject.toml requirements/tf$(TF).txt $(EXAMPLE)/pyproject.toml
	$(MKVENV)
	$(INSTALL) -r requirements/tf$(TF).txt -e '.[test,dev]'
	# The example of a user's own task, registered by entry point and gated in the tests.
	$(INSTALL) --no-deps -e $(EXAMPLE)
	rm -f $(VENV)/.installed-tf*
	touch $@

bench: $(STAMP)
	$(BIN)/prunebench run --profile full --seeds 0 1 2 3 4 --out results/full-tf$(TF).json

test: $(STAMP)
	$(BIN)/pytest -n auto

gate: $(STAMP)
	$(BIN)/prunebench check --profile quick

# Every TF version's quick baseline, remade from this commit in its tox environment.
baselines: $(STAMP)
	TOX=$(BIN)/tox scripts/remake_baselines.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts examples
	$(BIN)/lint-imports

type: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .tox .asv build dist src/*.egg-info
