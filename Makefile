# rnnlab: `make demo` and `make test` are the whole quick start.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_PIN := torch==2.13.0

.PHONY: demo test lint bench install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# the CPU wheel first: a bare `torch` requirement would pull a multi-GB CUDA build
	$(PIP) install --quiet $(TORCH_PIN)
	$(PIP) install --quiet -e ".[dev]"
	# rnnlab's optional C++ CPU kernels, compiled once now rather than on first use
	$(VENV)/bin/rnnlab kernels --build || echo "rnnlab kernels not built: layers use PyTorch's kernels"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/rnnlab info
	$(VENV)/bin/rnnlab shapes
	$(PY) benchmarks/recurrent.py --quick
	$(VENV)/bin/rnnlab models
	$(VENV)/bin/rnnlab tag predict --model ner-en --output-format conll "Angela Merkel met Tim Cook in Paris."
	$(VENV)/bin/rnnlab tag predict --model pos-en --output-format conll "Walmart tested shelf-scanning robots in its stores."
	$(VENV)/bin/rnnlab tag predict --model pos-fr --output-format conll "Le petit chat dort sur le canapé ."
	$(VENV)/bin/rnnlab classify predict --model sentiment-en "A dull, predictable plot and wooden acting." "Superb acting, and the story kept me gripped to the end."
	$(VENV)/bin/rnnlab extract predict "Vente Villa 4 pièces Nice (06000)  Réf. 12390: Sur les Hauteurs de Nice. Superbe villa moderne (190m²), 2 chambres et 1 suite parentale, 3 salles de bain. Cette villa a été construite en 2005. 1 270 000 euros. Si vous êtes intéressés, contactez vite Mimi LASOURIS 06.43.43.43. 43"
	$(VENV)/bin/rnnlab extract evaluate tests/ie/ads.jsonl
	$(VENV)/bin/rnnlab export --model default --format onnx --out runs/demo/extractor.onnx --overwrite
	$(VENV)/bin/rnnlab lab --out runs/demo/lab --overwrite

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

test: lint
	$(PY) -m pytest

bench: install
	$(PY) benchmarks/recurrent.py
	$(PY) benchmarks/memory.py
	$(PY) benchmarks/forecast_ett.py
	$(PY) benchmarks/classify_imdb.py
	$(PY) benchmarks/classify_sst2.py
	$(PY) benchmarks/tag_conll.py
	$(PY) benchmarks/tag_pos.py
	$(PY) benchmarks/extract_realestate.py
	$(PY) benchmarks/serve_load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist src/*.egg-info
