# Set-up on a fresh machine is `make run` or `make test`: each target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS := nsqd nsqlookupd nsq_tail ferretdb taskdash-refservice
# The web dashboard: npm installs into web/node_modules, Vite builds into the Python package.
WEB_INSTALLED := web/node_modules/.installed
WEB_BUILT := src/taskdash/web/dist/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/tsconfig.json web/tsconfig.app.json web/tsconfig.node.json

.PHONY: run test pytest bench tools venv clean web openapi debian-packages

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required: $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

$(WEB_INSTALLED): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_INSTALLED)

$(WEB_BUILT): $(WEB_INSTALLED) $(WEB_SOURCES)
	cd web && npm run build
	touch $(WEB_BUILT)

# Type-checks and builds the dashboard into src/taskdash/web/dist (served at /); quick when up to date.
web: $(WEB_BUILT)

# Regenerates web/openapi.json and the dashboard's API types after a change to the REST routes or models.
openapi: $(STAMP) $(WEB_INSTALLED)
	$(PY) -m taskdash.openapi > web/openapi.json.tmp
	mv web/openapi.json.tmp web/openapi.json
	cd web && npm run gen:api

# Builds the NSQ tools, FerretDB, the Go reference service and the load generator into .tools/bin;
# quick when up to date.
tools:
	scripts/build-tools.sh

# Installs Chromium, a CJK font, nginx and systemd from Debian when missing; needs root, as in CI.
debian-packages:
	scripts/install-debian-packages.sh

run: $(STAMP) tools web
	$(PY) -m devtools.run_local

test: $(STAMP) tools web debian-packages
	$(PY) -m pytest $(PYTEST_ARGS)
	cd web && npm test
	cd interop/refservice && go test ./...
	cd bench/loadgen && go test ./...

# Runs only pytest with $(PYTEST_ARGS), after the set-up of `test` minus the Debian packages. Without those, the
# browser tests (chromium, fonts-wqy-microhei) and the nginx and systemd tests in tests/deploy fail.
pytest: $(STAMP) tools web
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) tools
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .tools build data/local .pytest_cache web/node_modules src/taskdash/web/dist
