# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-pg test lint native bench bench-all schema messages clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m pos_promo.demo
	$(PY) -m pos_promo.sync.demo

# The same story with HQ on PostgreSQL (a schema of its own) under gunicorn, 2 workers.
POS_PROMO_DEMO_PG ?= postgresql://postgres@127.0.0.1:5432/postgres
demo-pg: $(STAMP)
	$(PY) -m pos_promo.sync.demo --database $(POS_PROMO_DEMO_PG) --workers 2

lint: $(STAMP)
	$(VENV)/bin/ruff check pos_promo daemon hq tests bench
	$(VENV)/bin/ruff format --check pos_promo daemon hq tests bench
	@mkdir -p .mypy_path && ln -sfn ../hq .mypy_path/pos_promo_hq && ln -sfn ../daemon .mypy_path/pos_promo_daemon
	$(VENV)/bin/mypy

# The engine's hottest modules compiled by mypyc (pos_promo/native.py): the
# same source, the same answers, about twice as fast. Needs a C compiler
# (.ci/run installs one); without one, outside CI, the engine runs as Python.
NATIVE := import sys; from pos_promo.native import main; sys.exit(main(sys.argv[1:]))
native: $(STAMP)
	$(PY) -c '$(NATIVE)' build

# Every test with the engine as Python (what runs where nothing was
# compiled), then, once built, again compiled (what `make bench` measures;
# the browser and wheel tests, which do not touch it, run once).
test: $(STAMP) lint native
	POS_PROMO_PURE=1 $(PY) -m pytest
	@if [ -f pos_promo/engine/_compiled/sources.txt ]; then \
		echo "POS_PROMO_NATIVE=1 $(PY) -m pytest -m 'not browser and not wheel'"; \
		POS_PROMO_NATIVE=1 $(PY) -m pytest -m 'not browser and not wheel'; fi

# `make bench`: every figure of issue 12 in one run (several minutes on a
# loaded 2-core machine), ending with a table of figure, goal, measured and
# met, and docs/performance.png drawn from the same numbers.
# `make bench QUICK=1` is a smoke run; `make bench-all` adds the 300-store
# chain, commit detail, sync, door and HQ benchmarks (much longer).
BENCH_FLAGS := $(if $(QUICK),--quick,)
bench: $(STAMP) native
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/figures.py $(BENCH_FLAGS)

bench-all: $(STAMP) native
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/evaluate.py $(BENCH_FLAGS)
	$(PY) bench/commit.py $(BENCH_FLAGS)
	$(PY) bench/sync.py $(BENCH_FLAGS)
	$(PY) bench/doors.py
	$(PY) bench/deep_pages.py
	$(PY) bench/hq.py $(BENCH_FLAGS)
	$(PY) bench/figures.py $(BENCH_FLAGS)

schema: $(STAMP)
	$(PY) -m pos_promo.cli schema --write docs/schema

# After changing a sentence: refresh the template and merge it into every
# catalog, then translate what is new (tests/test_i18n.py lists gaps).
I18N := pos_promo/i18n
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F $(I18N)/babel.cfg -k _ -k n_:1,2 --no-location --no-wrap \
		--sort-output --project pos_promo -o $(I18N)/locales/pos_promo.pot .
	$(VENV)/bin/pybabel update -i $(I18N)/locales/pos_promo.pot -d $(I18N)/locales \
		-D pos_promo --no-wrap --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .mypy_path pos_promo/engine/_compiled
