"""Targets without building anything: names, rows of the distributions table, the host."""

from __future__ import annotations

import pytest

from rpmdeploy.distributions import host_arch, releases
from rpmdeploy.errors import UsageError
from rpmdeploy.targets import SYSTEM_PYTHON, known_targets, resolve_target


def test_known_targets() -> None:
    names = known_targets()
    assert names[0] == "host"
    for expected in ("fedora-43", "rocky-9", "almalinux-10", "centos-stream-9", "rhel-8"):
        assert expected in names


def test_known_targets_are_the_rpm_releases() -> None:
    rpm = sorted(row.name for row in releases() if row.family == "rpm")
    assert known_targets() == ["host", *rpm]
    assert "amazonlinux-2023" in known_targets()
    assert not any(name.startswith(("debian", "ubuntu")) for name in known_targets())


@pytest.mark.parametrize(
    ("name", "python", "dist", "sitelib"),
    [
        ("fedora-43-x86_64", "3.14", ".fc43", "/usr/lib/python3.14/site-packages"),
        ("rocky-9", "3.9", ".el9", "/usr/lib/python3.9/site-packages"),
        ("almalinux-10-aarch64", "3.12", ".el10", "/usr/lib/python3.12/site-packages"),
    ],
)
def test_distribution_targets(name: str, python: str, dist: str, sitelib: str) -> None:
    target = resolve_target(name)
    assert (target.python_version, target.dist, target.purelib) == (python, dist, sitelib)
    assert target.marker_environment()["python_version"] == python
    assert target.mock_config == f"{name if name.count('-') > 1 else name + '-' + host_arch()}"


# Every row of the old data/targets.toml, as resolve_target gave it (x86_64): unchanged.
OLD_TARGETS = [
    # name, python, python_full, dist, glibc, payload
    ("fedora-42", "3.13", "3.13.2", ".fc42", "2.41", "w3.zstdio"),
    ("fedora-43", "3.14", "3.14.0", ".fc43", "2.42", "w3.zstdio"),
    ("fedora-44", "3.14", "3.14.2", ".fc44", "2.42", "w3.zstdio"),
    ("rhel-8", "3.6", "3.6.8", ".el8", "2.28", "w6.gzdio"),
    ("rhel-9", "3.9", "3.9.18", ".el9", "2.34", "w3.zstdio"),
    ("rhel-10", "3.12", "3.12.5", ".el10", "2.39", "w3.zstdio"),
    ("rocky-8", "3.6", "3.6.8", ".el8", "2.28", "w6.gzdio"),
    ("rocky-9", "3.9", "3.9.18", ".el9", "2.34", "w3.zstdio"),
    ("rocky-10", "3.12", "3.12.5", ".el10", "2.39", "w3.zstdio"),
    ("almalinux-8", "3.6", "3.6.8", ".el8", "2.28", "w6.gzdio"),
    ("almalinux-9", "3.9", "3.9.18", ".el9", "2.34", "w3.zstdio"),
    ("almalinux-10", "3.12", "3.12.5", ".el10", "2.39", "w3.zstdio"),
    ("centos-stream-9", "3.9", "3.9.18", ".el9", "2.34", "w3.zstdio"),
    ("centos-stream-10", "3.12", "3.12.5", ".el10", "2.39", "w3.zstdio"),
    ("amazonlinux-2023", "3.9", "3.9.16", ".amzn2023", "2.34", "w3.zstdio"),
]


@pytest.mark.parametrize(("name", "python", "full", "dist", "glibc", "payload"), OLD_TARGETS)
def test_targets_keep_their_values(
    name: str, python: str, full: str, dist: str, glibc: str, payload: str
) -> None:
    target = resolve_target(f"{name}-x86_64")
    assert target.name == f"{name}-x86_64"
    assert (target.python_version, target.python_full_version) == (python, full)
    assert (target.dist, target.glibc, target.payload) == (dist, glibc, payload)
    assert target.mock_config == f"{name}-x86_64"
    assert target.interpreter == SYSTEM_PYTHON
    assert not target.is_host and not target.namespaced


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("amazonlinux-2023", "amazonlinux-2023-x86_64"),
        ("al2023-aarch64", "amazonlinux-2023-aarch64"),
        ("fedora", "fedora-44-x86_64"),
        ("rhel-9.4-x86_64", "rhel-9-x86_64"),
        ("el9", "rhel-9-x86_64"),
        ("Rocky-9-amd64", "rocky-9-x86_64"),
        ("fedora-rawhide-s390x", "fedora-rawhide-s390x"),
        ("centos-stream-8", "centos-stream-8-x86_64"),
    ],
)
def test_target_names_are_distribution_names(
    name: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    target = resolve_target(name)
    assert target.name == expected
    assert target.mock_config == expected


def test_host_target_reads_the_interpreter() -> None:
    target = resolve_target("host")
    assert target.python_version == "3.11" and target.interpreter == "/usr/bin/python3"
    assert target.dist == ""


def test_unknown_target() -> None:
    with pytest.raises(UsageError, match="unknown target 'solaris-11'"):
        resolve_target("solaris-11")


def test_a_deb_release_is_no_target() -> None:
    with pytest.raises(UsageError, match=r"unknown target 'debian-12' \(debian-12 uses \.deb"):
        resolve_target("debian-12")


def test_an_arch_the_release_is_not_built_for() -> None:
    with pytest.raises(UsageError, match="amazonlinux-2023 is not built for s390x"):
        resolve_target("amazonlinux-2023-s390x")


def test_the_host_arch_must_be_one_the_release_is_built_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("platform.machine", lambda: "ppc64le")
    assert resolve_target("rocky-9").arch == "ppc64le"
    with pytest.raises(UsageError, match="not built for ppc64le"):
        resolve_target("amazonlinux-2023")


def test_dist_symbols_for_requires_and_provides() -> None:
    """Requires use python3.Xdist() as Fedora's generator writes them; a private namespace
    uses its own symbol for both."""
    target = resolve_target("fedora-43-x86_64")
    assert (target.dist_symbol, target.versioned_dist_symbol) == ("python3dist", "python3.14dist")
    assert target.requires_dist_symbol == "python3.14dist"
    private = target.with_namespace("acme-python3-", "/opt/acme")
    assert private.versioned_dist_symbol is None
    assert private.requires_dist_symbol == "acme-python3dist"
