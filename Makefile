# rpmdeploy: `make rpms` releases the example app as a verified yum repository in $(OUT),
# `make test` runs the test suite.
# Both set up what they need on a fresh Debian/Ubuntu (apt-get) or Fedora/EL (dnf) machine:
# the system packages (rpm tooling), a venv with the project, and (tests) the build backends.

PYTHON ?= /usr/bin/python3
VENV   ?= .venv
APP    ?= examples/hello-wsgi
OUT    ?= out
TARGET ?= host
JOBS   ?= 2
SIGN   ?=
BASE_URL ?=
PYTEST_ARGS ?=

BIN := $(VENV)/bin
# pip here ignores the machine's pip configuration (extra indexes, find-links, constraints):
# the project installs from the public index, the same everywhere.
PIP := env PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_EXTRA_INDEX_URL= $(BIN)/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

APT_PACKAGES := rpm createrepo-c python3-rpm python3-venv python3-dev gcc dnf dnf-plugins-core bubblewrap \
                cpio gnupg systemd puppet make
DNF_PACKAGES := rpm-build rpm-sign createrepo_c python3-rpm python3-devel gcc dnf bubblewrap \
                dnf-plugins-core cpio gnupg2 systemd puppet make

.PHONY: rpms test lint bench bench-mock clean system-deps venv test-deps

rpms: venv
	$(BIN)/rpmdeploy release $(APP) --out $(OUT) --target $(TARGET) --jobs $(JOBS) \
	    $(if $(SIGN),--sign $(SIGN)) $(if $(BASE_URL),--base-url $(BASE_URL))

test: venv test-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check rpmdeploy tests bench
	$(BIN)/ruff format --check rpmdeploy tests bench
	$(BIN)/mypy

bench: venv test-deps
	$(BIN)/python bench/bench_rpms.py
	$(BIN)/python bench/bench_pin.py

# The mock builder against plain `mock --rebuild` per package (needs mock).
bench-mock: venv test-deps
	$(BIN)/python bench/bench_mock.py

# System packages: installed only when a tool is missing, so reruns stay quick.
system-deps:
	@if command -v rpmbuild >/dev/null && command -v createrepo_c >/dev/null \
	    && command -v rpm2cpio >/dev/null && command -v cpio >/dev/null && command -v gcc >/dev/null \
	    && command -v systemd-analyze >/dev/null && command -v gpg >/dev/null \
	    && command -v rpmsign >/dev/null && command -v puppet >/dev/null && command -v bwrap >/dev/null \
	    && dnf repoclosure --help >/dev/null 2>&1 \
	    && $(PYTHON) -c 'import rpm, venv, sysconfig, os; \
	        assert os.path.exists(sysconfig.get_paths()["include"] + "/Python.h")' 2>/dev/null; then \
	    echo "system packages: present"; \
	elif command -v apt-get >/dev/null; then \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	elif command -v dnf >/dev/null; then \
	    $(SUDO) dnf install -y $(DNF_PACKAGES); \
	else \
	    echo "install by hand: rpmbuild, createrepo_c, the rpm Python bindings, gcc" >&2; exit 1; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $@

# Build backends the fixture packages need, fetched once (hash-checked) so tests stay offline.
test-deps: .cache/test-wheelhouse/.done

.cache/test-wheelhouse/.done: tests/data/backend-wheels.txt tests/data/backend-wheels-py39.txt | venv
	$(PIP) download -q --no-deps --require-hashes -r tests/data/backend-wheels.txt -d .cache/test-wheelhouse
	$(PIP) download -q --no-deps --require-hashes -r tests/data/backend-wheels-py39.txt \
	    -d .cache/test-wheelhouse
	$(PIP) install -q --no-index --find-links .cache/test-wheelhouse -r tests/data/backend-wheels.txt
	touch $@

clean:
	rm -rf $(OUT) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
