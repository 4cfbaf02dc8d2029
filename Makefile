# Two commands matter: `make demo` and `make test`. Both set up everything they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed
# Python 3.11 is required (MediaPipe 0.10.18 wheels); prefer an explicit 3.11 binary.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Debian packages the tests use: a real MQTT broker, a real MariaDB server, a real browser,
# openssl and systemd-analyze to check the certificates and units that provisioning writes.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help demo test lint bench venv debian-packages clean

help:
	@echo "make demo   - central service + embedded broker + SQLite + simulated kiosks"
	@echo "make test   - install everything and run the whole test suite"
	@echo "make lint   - ruff and mypy (strict)"
	@echo "make bench  - run the benchmarks under benchmarks/"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' \
		|| { echo "error: $(PYTHON) is not Python 3.11; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	# setuptools < 81 still ships pkg_resources, which face_recognition_models imports.
	$(PIP) install -q --upgrade pip 'setuptools<81' wheel
	$(PIP) install -q -e '.[central,kiosk,dev]'
	# face_recognition declares a dependency on `dlib`, which would compile for 20 minutes;
	# dlib-bin (installed above) provides the same module prebuilt.
	$(PIP) install -q --no-deps 'face_recognition==1.3.0'
	@touch $@

# Installs the Debian packages only when their binaries are missing.
debian-packages:
	@missing=""; \
	[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || missing="$$missing mosquitto"; \
	[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null || missing="$$missing mariadb-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

test: debian-packages venv
	$(PY) -m pytest $(PYTEST_ARGS)

demo: venv
	$(PY) -m central.demo $(DEMO_ARGS)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m mypy protocol edge_agent kiosk_ui central provisioning benchmarks tests

bench: debian-packages venv
	$(PY) -m benchmarks $(BENCH_ARGS)
	# The fault suite at the issue's full durations (broker down 60 s, network cut 5 min, ...).
	PROCTOR_LONG_FAULTS=1 $(PY) -m pytest tests/faults -q

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
