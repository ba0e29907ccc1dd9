# `make app` runs the app, `make test` runs the whole suite; both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: app test test-fast lint bench pretrained clean-venv

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --no-cache-dir -r requirements.txt
	touch $@

app: $(VENV)/.installed
	@echo "Starting the playground at http://127.0.0.1:$(PORT)"
	$(BIN)/streamlit run app/server.py --server.address 127.0.0.1 --server.port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m "not slow and not browser"

bench: $(VENV)/.installed
	OPENBLAS_NUM_THREADS=1 $(BIN)/python bench/divergence_fits.py
	$(BIN)/python bench/toy_speed.py
	$(BIN)/python bench/toy_quality.py
	$(BIN)/python bench/live_page.py
	$(BIN)/python bench/vae_slider.py
	$(BIN)/python bench/image_families.py
	$(BIN)/python bench/families_speed.py

pretrained: $(VENV)/.installed
	$(BIN)/python -m playground.vae.pretrained
	$(BIN)/python -m playground images features --dataset digits --out pretrained/features
	$(BIN)/python -m playground images features --dataset sprites --out pretrained/features --resolution 16
	$(BIN)/python -m playground images features --dataset sprites --out pretrained/features --resolution 32
	$(BIN)/python -m playground.images.pretrained --features-match mnist5k-28px-1ch || \
		$(BIN)/python -m playground images features --dataset mnist5k --resolution 28 --steps 1500 --out pretrained/features
	$(BIN)/python -m playground.images.pretrained

clean-venv:
	rm -rf $(VENV)
