# Two commands for a new user (see README.md):
#   make demo   colorize real photos with a model trained here, on the embedded sample
#   make test   the whole test suite
# Both create .venv with the pinned requirements on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= runs/demo

.PHONY: demo test clean-venv

demo: $(VENV)/.installed-run
	$(BIN)/colorpast demo --out $(OUT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The package is installed editable and without dependencies: the pins in the
# requirements files are the only source of versions.
$(VENV)/.installed-run: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The app's pins go in without resolution: Gradio caps Pillow below our pin (requirements-app.txt says why).
$(VENV)/.installed-dev: requirements.txt requirements-dev.txt requirements-app.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-app.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@ $(VENV)/.installed-run

clean-venv:
	rm -rf $(VENV)
