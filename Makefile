# autoseq: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest workers: 2 (CI's cores); --dist loadfile keeps a file's module fixtures on one worker.
TEST_WORKERS ?= 2

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/autoseq search examples/airline.csv --target passengers --horizon 12 \
		--space fast --trials 20 --max-epochs 40 --out results/demo-airline --seed 0
	$(BIN)/autoseq export results/demo-airline

test: $(STAMP)
	$(BIN)/ruff check autoseq tests benchmarks
	@(command -v chromium && command -v chromedriver) >/dev/null || bash .ci/install-browser.sh || \
		echo "warning: no chromium: the report's browser test will be skipped (fails in CI)"
	@bash .ci/install-postgres.sh || \
		echo "warning: no PostgreSQL: the distributed-search tests will be skipped (fail in CI)"
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=20

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
