# Every target installs what it needs itself (idempotent): a fresh clone needs only `make demo` / `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast bench lint ddl clean test-prereqs stack stack-down stack-clean \
	docker-prereqs airflow-standalone dashboard

$(STAMP): pyproject.toml requirements.lock requirements-excludes.txt scripts/bootstrap.sh scripts/apt-install.sh
	bash scripts/bootstrap.sh $(VENV)
	$(PY) -m spotify_pipeline.demo_airflow
	$(PY) -m spark_jobs.class_archive
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/spotify-pipeline demo

# The suite runs the Compose stack: Docker's prerequisites first (engine, daemon, Compose plugin, base
# images; idempotent, the image cache reused). Where Docker cannot be had, one line says so and the rest
# runs (the stack tests skip with that line); under CI=true that is a failure. Tests never install anything.
# Two runs: the tiers that need no service on every core (test-fast), then the system tier in one process,
# which shares one Compose stack, the cluster profile, from its first user to the end (the node-loss drills
# run on it; the single-node default is started and queried once before it). Each run fails when it
# collects nothing.
test: $(STAMP) test-prereqs
	@bash scripts/docker-prereqs.sh || { [ "$${CI:-}" != true ] || exit 1; \
	  echo "make test: Docker is not available here (line above): the stack tests are skipped"; }
	$(MAKE) --no-print-directory test-fast
	$(PY) -m pytest -q -p no:cacheprovider -m system --durations=30

# Every test that needs no service (tiers unit and contract, tests/conftest.py): no Docker, no stack.
# A test module per xdist worker (its module fixtures built once; tests/conftest.py), one worker more than
# cores: some modules mostly wait (crawls paced by their sample API, timeouts), and the extra worker runs
# Spark beside them. On 2 cores: 2 workers 212-219 s, 3 workers 169-199 s, 4 workers 209 s (docs/performance.md).
# Modules are handed out in the order tests/conftest.py gives (STARTED_FIRST), not xdist's most-tests-first.
# No test collected is a failure (pytest's exit 5).
test-fast: $(STAMP) test-prereqs
	$(PY) -m pytest -q -p no:cacheprovider -m "not system" -n $$(( $$(nproc) + 1 )) --dist loadfile \
	  --no-loadscope-reorder --durations=15

# The system packages the suite uses: Debian's chromium (the UI tests), a JDK (the BI JDBC client),
# redis-server (the shared crawl budget's tests).
test-prereqs:
	bash scripts/test-prereqs.sh

bench: $(STAMP)
	$(PY) -m bench.run $(if $(ONLY),--only $(ONLY)) $(if $(QUICK),--quick)

dashboard: $(STAMP)
	$(VENV)/bin/streamlit run analytics/dashboard_app.py --server.port 8501 \
		--server.headless true --browser.gatherUsageStats false

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

ddl: $(STAMP)
	$(VENV)/bin/spotify-pipeline ddl --out hive/ddl

# The platform in Docker Compose (docs/stack.md): docker-prereqs installs the engine, starts the daemon,
# builds the Compose plugin and the Debian base images where none can be pulled (idempotent).
docker-prereqs:
	bash scripts/docker-prereqs.sh

# PROFILE=cluster: several nodes per engine (docker-compose.cluster.yml, docs/scaling.md).
stack: $(STAMP)
	$(if $(filter cluster,$(PROFILE)),STACK_PROFILE=cluster )$(VENV)/bin/spotify-pipeline stack up

# Stops and removes the containers; the data volumes stay (the next `make stack` finds the same lake).
stack-down: $(STAMP)
	$(VENV)/bin/spotify-pipeline stack down

# Also deletes the data volumes: the next `make stack` starts from nothing.
stack-clean: $(STAMP)
	$(VENV)/bin/spotify-pipeline stack down --volumes

# No Docker: the Airflow UI over the embedded defaults (SQLite landing, file lake, Spark local[*]), in
# Airflow's own standalone mode; the login is AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD (admin / admin).
airflow-standalone: $(STAMP)
	mkdir -p data/airflow-standalone
	AIRFLOW_HOME=$(CURDIR)/data/airflow-standalone AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=false AIRFLOW__API__HOST=127.0.0.1 \
	AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager \
	AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=$${AIRFLOW_ADMIN_USER:-admin}:admin \
	AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=$(CURDIR)/data/airflow-standalone/passwords.json \
	bash -c 'umask 077; printf "{\"%s\": \"%s\"}\n" "$${AIRFLOW_ADMIN_USER:-admin}" "$${AIRFLOW_ADMIN_PASSWORD:-admin}" \
	  > data/airflow-standalone/passwords.json; exec $(VENV)/bin/airflow standalone'

clean:
	rm -rf data .pytest_cache bench/results/*.tmp
