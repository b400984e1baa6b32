# Every target installs what it needs itself (idempotent): a fresh clone needs only `make demo` / `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast bench lint ddl clean stack stack-down stack-prereqs dashboard

$(STAMP): pyproject.toml requirements.lock scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV)
	$(PY) -m spotify_pipeline.demo_airflow || echo "install: no Airflow DB template (the demo will migrate)"
	$(PY) -m spotify_pipeline.spark_class_archive || echo "install: no Spark class archive (Spark starts the slower way)"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/spotify-pipeline demo

# The suite runs the real stack: its system packages are installed first when absent.
test: $(STAMP) stack-prereqs
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not airflow"

bench: $(STAMP)
	$(PY) -m bench.run $(if $(ONLY),--only $(ONLY)) $(if $(QUICK),--quick)

dashboard: $(STAMP)
	$(VENV)/bin/streamlit run analytics/dashboard_app.py --server.port 8501 \
		--server.headless true --browser.gatherUsageStats false

lint: $(STAMP)
	$(VENV)/bin/ruff check .

ddl: $(STAMP)
	$(VENV)/bin/spotify-pipeline ddl --out hive/ddl

# The platform's real services as local processes (docs/stack.md). PROFILE=light: Airflow only;
# FOREGROUND=1: stay attached, Ctrl-C stops everything.
stack-prereqs:
	bash scripts/stack-prereqs.sh

stack: $(STAMP) stack-prereqs
	$(VENV)/bin/spotify-pipeline stack up --profile $(or $(PROFILE),full) $(if $(FOREGROUND),--foreground)

stack-down: $(STAMP)
	$(VENV)/bin/spotify-pipeline stack down --profile $(or $(PROFILE),full)

clean:
	rm -rf data .pytest_cache bench/results/*.tmp
