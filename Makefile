# Set-up on a fresh machine is `make run` or `make test`: each target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS := nsqd nsqlookupd nsq_tail ferretdb taskdash-refservice

.PHONY: run test bench tools venv clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required: $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# Builds the NSQ tools, FerretDB and the Go reference service into .tools/bin; quick when up to date.
tools:
	scripts/build-tools.sh

run: $(STAMP) tools
	$(PY) -m devtools.run_local

test: $(STAMP) tools
	$(PY) -m pytest $(PYTEST_ARGS)
	cd interop/refservice && go test ./...

bench: $(STAMP) tools
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .tools build data/local .pytest_cache
