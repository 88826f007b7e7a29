# lineagraph: the two commands of the README, and a few more.
#   make demo   install into .venv, start the local Neo4j, run the end-to-end example
#   make test   install with the test extra into .venv and run the tests on a real Neo4j
#   make neo4j-image  build the local Docker image lineagraph/neo4j:5.26-community
#                     (docker/neo4j-image/build.sh; NEO4J_IMAGE_ARGS=--rebuild forces)

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install install-test stop clean bench bench-venv neo4j-image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q .

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q '.[test]'

demo: install
	$(BIN)/lineagraph demo

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

stop:
	$(BIN)/lineagraph neo4j stop

neo4j-image:
	bash docker/neo4j-image/build.sh $(NEO4J_IMAGE_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info

# Benchmarks (BENCHMARKS.md): LineaPy 0.2.3 in its own venv, then the runner.
LINEAPY_VENV   ?= benchmarks/.lineapy-venv
LINEAPY_PYTHON ?= $(shell test -x /root/.pyenv/versions/3.10.13/bin/python && echo /root/.pyenv/versions/3.10.13/bin/python || (command -v python3.10 || command -v python3.11))
BENCH_ARGS     ?= --sizes 1000,10000,100000 --repeat 3 --write-md BENCHMARKS.md

$(LINEAPY_VENV)/bin/python:
	$(LINEAPY_PYTHON) -m venv $(LINEAPY_VENV)
	$(LINEAPY_VENV)/bin/python -m pip install -q --upgrade pip
	$(LINEAPY_VENV)/bin/python -m pip install -q 'lineapy==0.2.3' 'pydantic<2' 'SQLAlchemy<2' \
	    scikit-learn lxml_html_clean  # lineapy python needs lxml_html_clean to start

bench-venv: $(LINEAPY_VENV)/bin/python

bench: install bench-venv
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
