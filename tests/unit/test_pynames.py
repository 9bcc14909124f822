"""Package names as the target names them (rpmdeploy.pynames), without building anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpmdeploy import pynames
from rpmdeploy.errors import RpmdeployError, UsageError
from rpmdeploy.targets import resolve_target

FEDORA = resolve_target("fedora-43-x86_64")
EL9 = resolve_target("rocky-9-x86_64")
NAMESPACE = EL9.with_namespace("acme-python3-", "/opt/acme")


# (PyPI name as written, Fedora 43 binary, source): each checked on packages.fedoraproject.org
# (see data/package-names.toml): the rule's cases and the table's.
FEDORA_NAMES = [
    ("python-dateutil", "python3-dateutil", "python-dateutil"),
    ("python_ldap", "python3-ldap", "python-ldap"),
    ("python-magic", "python3-magic", "python-magic"),
    ("dbus-python", "python3-dbus", "python-dbus"),
    ("libvirt-python", "python3-libvirt", "python-libvirt"),
    ("PyYAML", "python3-pyyaml", "python-pyyaml"),
    ("PyJWT", "python3-jwt", "python-jwt"),
    ("pycairo", "python3-cairo", "python-cairo"),
    ("PyGObject", "python3-gobject", "python-gobject"),
    ("pyOpenSSL", "python3-pyOpenSSL", "python-pyOpenSSL"),
    ("pyzmq", "python3-pyzmq", "python-pyzmq"),
    ("python-multipart", "python3-python-multipart", "python-python-multipart"),
    ("multipart", "python3-multipart", "python-multipart"),
    ("Requests", "python3-requests", "python-requests"),
    ("python", "python3-python", "python-python"),  # nothing left to strip
]


@pytest.mark.parametrize(("pypi", "binary", "source"), FEDORA_NAMES)
def test_names_as_fedora_names_them(pypi: str, binary: str, source: str) -> None:
    assert pynames.binary_name(pypi, FEDORA) == binary
    assert pynames.source_name(pypi, FEDORA) == source


def test_names_that_differ_between_releases() -> None:
    """EPEL 8 and 9 still ship pyzmq as python3-zmq; Fedora 42+ renamed it python3-pyzmq."""
    assert pynames.binary_name("pyzmq", EL9) == "python3-zmq"
    assert pynames.binary_name("pyzmq", resolve_target("rhel-8")) == "python3-zmq"
    assert pynames.binary_name("pyzmq", resolve_target("almalinux-10")) == "python3-pyzmq"
    assert pynames.previous_name("pyzmq", EL9) == "python3-pyzmq"
    assert pynames.previous_name("pyzmq", FEDORA) is None


def test_the_host_target_names_as_its_own_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Rocky 9 host, `--target host` takes EL9's dist tag and so EL9's names; on a host
    that is no RPM distribution (Debian) it has none and Fedora's names."""
    from rpmdeploy import distributions
    from rpmdeploy.targets import SYSTEM_PYTHON, host_target

    rocky = tmp_path / "os-release"
    rocky.write_text('ID=rocky\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n')
    monkeypatch.setattr(distributions, "OS_RELEASE", rocky)
    host = host_target(SYSTEM_PYTHON)
    assert host.dist == ".el9" and pynames.binary_name("pyzmq", host) == "python3-zmq"
    debian = tmp_path / "os-release-debian"
    debian.write_text('ID=debian\nVERSION_ID="12"\n')
    monkeypatch.setattr(distributions, "OS_RELEASE", debian)
    host = host_target(SYSTEM_PYTHON)
    assert host.dist == "" and pynames.binary_name("pyzmq", host) == "python3-pyzmq"


def test_previous_name_only_when_renamed() -> None:
    assert pynames.previous_name("python-dateutil", FEDORA) == "python3-python-dateutil"
    assert pynames.previous_name("pyOpenSSL", FEDORA) == "python3-pyopenssl"  # case matters
    assert pynames.previous_name("requests", FEDORA) is None
    assert pynames.previous_name("python-multipart", FEDORA) is None


def test_private_namespace_is_never_renamed() -> None:
    for pypi in ("python-dateutil", "foo-python", "pyzmq", "PyJWT"):
        canonical = pypi.lower()
        assert pynames.binary_name(pypi, NAMESPACE) == f"acme-python3-{canonical}"
        assert pynames.source_name(pypi, NAMESPACE) == f"acme-python3-{canonical}"
        assert pynames.previous_name(pypi, NAMESPACE) is None
        assert pynames.alternative_names(f"acme-python3-{canonical}", NAMESPACE) == ()


def test_alternative_names_as_fedoras_pythonname_generator() -> None:
    assert pynames.alternative_names("python3-dateutil", FEDORA) == (
        "python-dateutil",
        "python3.14-dateutil",
    )
    assert pynames.alternative_names("python3-zmq", EL9) == ("python-zmq", "python3.9-zmq")


def test_two_projects_with_one_name_are_refused() -> None:
    pynames.check_distinct(["python-foo", "bar", "foo-bar"], FEDORA)
    with pytest.raises(
        UsageError, match="python-foo and foo would both be packaged as python3-foo"
    ):
        pynames.check_distinct(["python-foo", "Foo"], FEDORA)
    pynames.check_distinct(["python-foo", "foo"], NAMESPACE)  # no renames there: no clash


def test_the_shipped_table_loads_and_every_name_is_checked() -> None:
    table = pynames.known_names()
    assert table["pyjwt"].name == "python3-jwt"
    assert all(row.name.startswith("python3-") for row in table.values())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[packages.PyJWT]\nname = "python3-jwt"\n', "canonical"),
        ('[packages.pyjwt]\nname = "jwt"\n', "python3-NAME"),
        ('[packages.pyjwt]\nname = "python3-j wt"\n', "python3-NAME"),
        ('[packages.pyjwt]\nname = "python3-jwt"\ndist = { "el9" = "python3-x" }\n', "tags"),
        ("[packages.pyjwt\n", "package-names"),
    ],
)
def test_a_bad_table_is_an_error(text: str, problem: str) -> None:
    with pytest.raises(RpmdeployError, match=problem):
        pynames.parse_table(text, "package-names.toml")
