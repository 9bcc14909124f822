# rpmdeploy: `make rpms` releases the example app as a verified yum repository in $(OUT),
# `make test` runs the test suite; `make help` lists every target.
# Both set up what they need on a fresh Debian/Ubuntu (apt-get) or Fedora/EL (dnf) machine:
# `rpms` only what releasing needs (rpm tooling, dnf, gpg, bubblewrap, a venv with rpmdeploy);
# `test` adds the test tools (puppet, systemd-analyze, the test extras, the build backends).

PYTHON ?= /usr/bin/python3
VENV   ?= .venv
APP    ?= examples/hello-wsgi
OUT    ?= out
# Empty: the app's own target ([rpms] target in its rpmdeploy.toml; rocky-9 for the example).
TARGET ?=
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
SIGN   ?=
BASE_URL ?=
PYTEST_ARGS ?=

BIN := $(VENV)/bin
# pip here ignores the machine's pip configuration (extra indexes, find-links, constraints):
# the project installs from the public index, the same everywhere.
PIP := env PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_EXTRA_INDEX_URL= $(BIN)/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# What releasing needs, and what only the tests need on top.
APT_PACKAGES := rpm createrepo-c python3-rpm python3-venv python3-dev gcc dnf dnf-plugins-core \
                bubblewrap gnupg cpio
DNF_PACKAGES := rpm-build rpm-sign createrepo_c python3-rpm python3-devel gcc dnf \
                dnf-plugins-core bubblewrap gnupg2 cpio
APT_TEST_PACKAGES := puppet systemd make chromium
DNF_TEST_PACKAGES := puppet systemd make chromium

.PHONY: help rpms test lint bench bench-sdists bench-mock bench-copr clean system-deps test-system-deps venv test-venv test-deps

help:
	@echo "make rpms     release $(APP) into $(OUT) (TARGET=NAME JOBS=$(JOBS) SIGN=KEYID BASE_URL=URL)"
	@echo "make test     lint, type checks and the test suite (PYTEST_ARGS=...)"
	@echo "make lint     ruff and mypy only"
	@echo "make bench    benchmarks: rpms against plain rpmbuild, pin against uv and pip-compile"
	@echo "make bench-sdists nine sdists against pyp2spec's workflow; rocky-9 from wheels vs host (PyPI)"
	@echo "make bench-mock   the mock builder against plain mock --rebuild (needs mock)"
	@echo "make bench-copr   the copr builder's own overhead against the stand-in Copr (fake builds)"
	@echo "make clean    remove $(OUT) and build leftovers"

rpms: venv
	$(BIN)/rpmdeploy release $(APP) --out $(OUT) $(if $(TARGET),--target $(TARGET)) --jobs $(JOBS) \
	    $(if $(SIGN),--sign $(SIGN)) $(if $(BASE_URL),--base-url $(BASE_URL))

test: test-venv test-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: test-venv
	$(BIN)/ruff check rpmdeploy tests bench
	$(BIN)/ruff format --check rpmdeploy tests bench
	$(BIN)/mypy

bench: test-venv test-deps
	$(BIN)/python bench/bench_rpms.py
	$(BIN)/python bench/bench_pin.py

# Each sdist built once: nine common sdists against Fedora's pyp2spec workflow, and a rocky-9
# release from manylinux wheels against the same for the host (both need PyPI).
bench-sdists: test-venv test-deps
	$(BIN)/python bench/bench_sdists.py
	$(BIN)/python bench/bench_rpms.py targets

# The mock builder against plain `mock --rebuild` per package (needs mock).
bench-mock: test-venv test-deps
	$(BIN)/python bench/bench_mock.py

# The copr builder's submission, polling and download overhead, against the tests' stand-in
# Copr with instant fake builds (bench only), for 50 and 200 packages.
bench-copr: test-venv test-deps
	$(BIN)/python bench/bench_copr.py

# System packages: installed only when a tool is missing, so reruns stay quick.
system-deps:
	@if command -v rpmbuild >/dev/null && command -v createrepo_c >/dev/null \
	    && command -v rpm2cpio >/dev/null && command -v cpio >/dev/null && command -v gcc >/dev/null \
	    && command -v gpg >/dev/null && command -v rpmsign >/dev/null && command -v bwrap >/dev/null \
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
	    echo "install by hand: rpmbuild, createrepo_c, the rpm Python bindings, gcc, dnf, gpg," \
	        "bubblewrap" >&2; exit 1; \
	fi

test-system-deps: system-deps
	@if command -v systemd-analyze >/dev/null && command -v puppet >/dev/null \
	    && command -v chromium >/dev/null; then \
	    echo "test tools: present"; \
	elif command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_TEST_PACKAGES); \
	elif command -v dnf >/dev/null; then \
	    $(SUDO) dnf install -y $(DNF_TEST_PACKAGES); \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

test-venv: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed | test-system-deps
	$(PIP) install -q -e '.[test]'
	touch $@

# Build backends the fixture packages need, fetched once (hash-checked) so tests stay offline.
test-deps: .cache/test-wheelhouse/.done

.cache/test-wheelhouse/.done: tests/data/backend-wheels.txt tests/data/backend-wheels-py39.txt | test-venv
	$(PIP) download -q --no-deps --require-hashes -r tests/data/backend-wheels.txt -d .cache/test-wheelhouse
	$(PIP) download -q --no-deps --require-hashes -r tests/data/backend-wheels-py39.txt \
	    -d .cache/test-wheelhouse
	$(PIP) install -q --no-index --find-links .cache/test-wheelhouse -r tests/data/backend-wheels.txt
	touch $@

clean:
	rm -rf $(OUT) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
