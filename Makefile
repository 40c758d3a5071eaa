# The two commands of the README: `make demo` and `make test`. Each makes its own .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test lint clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed  ## set up and run the demo alliance at http://127.0.0.1:5000
	$(BIN)/federation demo

test: $(VENV)/.installed  ## set up and run the whole test suite (SQLite; no server needed)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache

translations: $(VENV)/.installed  ## re-extract strings, merge into zh_CN, compile (edit the .po in between)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o web/translations/messages.pot .
	$(BIN)/pybabel update --no-wrap -i web/translations/messages.pot -d web/translations -l zh_Hans_CN --no-fuzzy-matching
	$(BIN)/pybabel compile -d web/translations
