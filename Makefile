# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKED := src tests benchmarks examples

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml scripts/ensure-system-packages.sh
	bash scripts/ensure-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q src  # as pip does for a wheel: start-up reads bytecode, even where PYTHONDONTWRITEBYTECODE is set
	touch $(STAMP)

install: $(STAMP)

# The main job: every runnable task of the built-in catalog, solved by its oracle with real tools,
# into ./demo-output (resumable), then the dataset's statistics, then a curated dataset folder
# with its card in ./demo-dataset.
demo: install
	$(BIN)/trajforge generate --policy oracle --tasks builtin --out demo-output
	$(BIN)/trajforge validate demo-output/rows
	$(BIN)/trajforge stats demo-output/rows
	$(BIN)/trajforge publish demo-output --out demo-dataset --pretty-name trajforge-demo

lint: install
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/bench_dataset.py
	$(BIN)/python benchmarks/bench_publish.py
	$(BIN)/python benchmarks/bench_harness.py
	$(BIN)/python benchmarks/bench_viewer.py
	$(BIN)/python benchmarks/bench_generate.py --episodes 40 --turns 8 --latency 0 --concurrency 4 --sandbox bwrap
	$(BIN)/python benchmarks/bench_browser.py
	$(BIN)/python benchmarks/bench_agent_tools.py
	$(BIN)/python benchmarks/bench_textformats.py
	$(BIN)/python benchmarks/bench_synthesis.py
	$(BIN)/python -m benchmarks.bench_compress

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
