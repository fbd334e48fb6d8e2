# CRPS evidence notebooks. Quick start: `make book` (build the collection), `make test` (every check).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HTML   := _build/html
HANDOUTS := _build/handouts
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))

.PHONY: help install book handouts execute index certainty wheel check check-index check-outputs test test-unit test-notebooks test-book lint lab benchmark clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv  # uv installs the rest, several times faster
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test,book,dev]'
	touch $(STAMP)

install: $(STAMP)  ## Create .venv and install the package with everything it needs

index: $(STAMP)  ## Regenerate notebooks/index.md and notebooks/README.md from the titles
	$(BIN)/python scripts/make_index.py

book: check-outputs  ## Build the website from the stored (nbval-checked) outputs into _build/html
	$(BIN)/python scripts/make_index.py
	$(BIN)/sphinx-build -W --keep-going -q -b html notebooks $(HTML)
	@echo "Open $(HTML)/index.html"

handouts: book  ## Print the one-page handouts (one per treatment, and a summary) to PDF in _build/handouts
	bash scripts/ensure-chromium.sh
	$(BIN)/python scripts/make_handouts.py --html-dir $(HTML) --out $(HANDOUTS)

execute: $(STAMP)  ## Re-run every notebook in place (after changing data or code)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --NotebookClient.record_timing=False --ExecutePreprocessor.timeout=300 $(NOTEBOOKS)

lint: $(STAMP)  ## ruff over src, tests, scripts, benchmarks and notebooks; the package's layering contract
	$(BIN)/ruff check src tests scripts benchmarks notebooks
	$(BIN)/lint-imports --no-cache

test-unit: $(STAMP)  ## Unit, data-integrity and CLI tests (two workers)
	$(BIN)/python -m pytest -q -n 2 -m "not book" tests --doctest-modules src/crps_evidence

certainty: $(STAMP)  ## Recompute the rule-based columns of our certainty ratings (data/certainty.csv)
	$(BIN)/python scripts/fill_certainty.py

wheel: $(STAMP)  ## Build the installable package, with its copy of the data, into dist/
	$(BIN)/python -m pip wheel . --no-deps --no-build-isolation --quiet -w dist
	rm -rf build
	@ls dist/*.whl

check: $(STAMP)  ## Validate the data and the bibliography and run every cross-file check (seconds)
	$(BIN)/crps-evidence check

test-notebooks: $(STAMP)  ## Execute every notebook and compare with its stored outputs (nbval)
	$(BIN)/python -m pytest -q --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -n 2 --dist loadfile $(NOTEBOOKS)

test-book: check-index  ## Build the book from scratch (-E, warnings are errors), print the handouts, check both in headless Chromium (axe-core audit included)
	rm -rf $(HTML)
	$(BIN)/sphinx-build -E -W --keep-going -q -b html notebooks $(HTML)
	bash scripts/ensure-chromium.sh
	$(BIN)/python scripts/make_handouts.py --html-dir $(HTML) --out $(HANDOUTS)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m book tests/book

check-outputs: $(STAMP)  ## Fail (naming them) if notebooks' stored outputs were made from other data
	$(BIN)/python scripts/check_outputs.py

check-index: $(STAMP)  ## Fail if notebooks/index.md or notebooks/README.md is out of date
	$(BIN)/python scripts/make_index.py --check

test: check-outputs check-index lint test-unit test-notebooks test-book  ## Everything CI runs

LAB_STAMP := $(VENV)/.lab-stamp

$(LAB_STAMP): $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[lab]'
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)  ## Open the notebooks in JupyterLab (MyST rendered; the book's machinery hidden)
	$(BIN)/jupyter lab --config=jupyter_server_config.json --ServerApp.root_dir=notebooks

benchmark: $(STAMP)  ## Loading and synthesis benchmarks (figures, not assertions)
	$(BIN)/python benchmarks/bench_loading.py
	$(BIN)/python benchmarks/bench_synthesis.py

clean:  ## Remove build outputs and the generated handout pages (keeps .venv)
	rm -rf _build .pytest_cache notebooks/handouts
