# Two commands for a new user (see README.md):
#   make demo   colorize real photos with a model trained here, on the embedded sample
#   make test   the whole test suite
# Both create .venv with the pinned requirements on first use.
#   make test-floors   the core tests on pyproject's lowest versions, in .venv-floors (CI runs it too)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= runs/demo

.PHONY: demo test test-floors clean-venv

demo: $(VENV)/.installed-run
	$(BIN)/colorpast demo --out $(OUT)

# Two processes, each test file whole in one (module fixtures stay shared): the suite's
# tests mostly wait on one core (load about 1.2 on two cores run one at a time).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

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

# The versions users really have: on Colab `%pip install` keeps the preinstalled
# TensorFlow, Keras and NumPy whenever they meet pyproject's ranges, so the core tests
# (colour, models, loader, train and resume, colorize, evaluate, film files) run on the lowest
# version of every dependency (.ci/floors.py). Multi-device strategies and HEIC (an
# extra) are left to `make test`.
FLOORS      ?= .venv-floors
CORE_TESTS  := tests/test_color.py tests/test_models.py tests/data/test_loader.py tests/test_train.py \
               tests/test_run_settings.py tests/test_colorize_metrics.py tests/test_evaluate_colorize.py \
               tests/data/test_download.py tests/models/test_effunet.py tests/models/test_effunet_lite2.py \
               tests/test_video_files.py

test-floors: $(FLOORS)/.installed
	$(FLOORS)/bin/python -m pytest $(CORE_TESTS) -k "not heic and not mirrored and not multiworker"

$(FLOORS)/.installed: pyproject.toml .ci/floors.py
	$(PYTHON) -m venv $(FLOORS)
	$(PYTHON) .ci/floors.py > $(FLOORS)/floors.txt
	$(FLOORS)/bin/python -m pip install --quiet --disable-pip-version-check -r $(FLOORS)/floors.txt pytest==9.2.0
	$(FLOORS)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

clean-venv:
	rm -rf $(VENV) $(FLOORS)
