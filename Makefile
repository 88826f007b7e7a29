# lineagraph: the two commands of the README, and a few more.
#   make demo   install into .venv, start the local Neo4j, run the end-to-end example
#   make test   install with the test extra into .venv and run the tests on a real Neo4j

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install install-test stop clean

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

clean:
	rm -rf $(VENV) build dist *.egg-info
