"""Names and provides as the distribution names them, on real RPMs (rpmdeploy.pynames).

Fixture wheels with renamed distribution names, built here: ``python-foo`` (Fedora's rule:
``python3-foo``), ``widget-python`` (``python3-widget``) and ``PyJWT`` (the table: ``python3-jwt``).
The app is released (its verify stage installs it with dnf into an empty root), the RPMs are
read back, and a root holding rpmdeploy's old names (``python3-python-foo``) is upgraded to
the new ones with dnf.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import rpm
from helpers import deps, file_names, make_wheel, new_app, read_header, run_cli

from rpmdeploy.targets import resolve_target

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dnf --installroot needs root")

PY = resolve_target().python_version  # the host's: what the host target builds for
SITE = f"/usr/lib/python{PY}/site-packages"
APP_TOML = '[app]\nname = "shop"\nversion = "1.0.0"\n'


@dataclass(frozen=True)
class Released:
    repo: Path
    tmp: Path

    def header(self, name: str) -> rpm.hdr:
        found = [
            p
            for p in self.repo.glob("Packages/*.rpm")
            if p.name.startswith(f"{name}-") and p.name[len(name) + 1].isdigit()
        ]
        assert len(found) == 1, f"{name}: {sorted(p.name for p in self.repo.glob('Packages/*'))}"
        return read_header(found[0])


def _wheels(links: Path) -> None:
    links.mkdir(parents=True)
    make_wheel(
        links,
        "python_foo",
        "1.0",
        "Metadata-Version: 2.1\nName: python-foo\nVersion: 1.0\nProvides-Extra: fast\n"
        "Requires-Dist: widget-python>=1\nRequires-Dist: PyJWT>=2; extra == 'fast'\n",
        {"foo/__init__.py": "X = 1\n"},
    )
    make_wheel(
        links,
        "widget_python",
        "1.0",
        "Metadata-Version: 2.1\nName: widget-python\nVersion: 1.0\n",
        {"widget/__init__.py": "Y = 2\n"},
    )
    make_wheel(
        links,
        "PyJWT",
        "2.0",
        "Metadata-Version: 2.1\nName: PyJWT\nVersion: 2.0\n",
        {"jwt/__init__.py": "Z = 3\n"},
    )


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Released:
    tmp = tmp_path_factory.mktemp("names")
    _wheels(tmp / "links")
    app = new_app(tmp / "app", tmp / "links", "python-foo[fast]\n")
    (app.path / "rpmdeploy.toml").write_text(APP_TOML)
    app.pin()
    repo = tmp / "repo"
    # --lint: rpmlint with the shipped configuration finds no error in the renamed packages
    result = run_cli("release", app.path, "--out", repo, "--cache-dir", tmp / "cache", "--lint")
    assert "published" in result.output, result.output
    return Released(repo, tmp)


def test_binary_and_source_names_follow_the_distribution(released: Released) -> None:
    published = sorted(p.name for p in released.repo.glob("Packages/*.rpm"))
    names = {n.rsplit("-", 2)[0] for n in published}
    assert names == {"shop", "python3-foo", "python3-foo+fast", "python3-widget", "python3-jwt"}
    sources = {
        released.header(n)[rpm.RPMTAG_SOURCERPM].rsplit("-", 2)[0]
        for n in ("python3-foo", "python3-widget", "python3-jwt")
    }
    assert sources == {"python-foo", "python-widget", "python-jwt"}
    assert f"{SITE}/foo/__init__.py" in file_names(released.header("python3-foo"))


def test_provides_requires_and_obsoletes_as_fedora_writes_them(released: Released) -> None:
    foo = released.header("python3-foo")
    provides = deps(foo, "provides")
    for expected in (
        "python3dist(python-foo) = 1",
        f"python{PY}dist(python-foo) = 1",
        "python-foo = 1.0-1",  # Fedora's pythonname generator
        f"python{PY}-foo = 1.0-1",
        "python3-python-foo = 1.0-1",  # the old name, as Fedora's renaming guidelines ask
    ):
        assert expected in provides
    requires = deps(foo, "requires")
    assert f"python{PY}dist(widget-python) >= 1" in requires
    assert not any(r.startswith("python3dist(") for r in requires)
    obsoletes = [ds.DNEVR()[2:] for ds in foo.dsFromHeader("obsoletename")]
    assert obsoletes == ["python3-python-foo <= 1.0"]
    fast = released.header("python3-foo+fast")
    assert f"python{PY}dist(pyjwt) >= 2" in deps(fast, "requires")
    assert [ds.DNEVR()[2:] for ds in fast.dsFromHeader("obsoletename")] == [
        "python3-python-foo+fast <= 1.0"
    ]
    jwt = released.header("python3-jwt")
    assert "python-jwt = 2.0-1" in deps(jwt, "provides")
    assert "python3-pyjwt = 2.0-1" in deps(jwt, "provides")
    assert [ds.DNEVR()[2:] for ds in jwt.dsFromHeader("obsoletename")] == ["python3-pyjwt <= 2.0"]
    widget = released.header("python3-widget")  # widget-python: the trailing -python goes
    assert [ds.DNEVR()[2:] for ds in widget.dsFromHeader("obsoletename")] == [
        "python3-widget-python <= 1.0"
    ]
    shop = deps(released.header("shop"), "requires")
    assert f"python{PY}dist(python-foo) = 1" in shop
    assert f"python{PY}dist(python-foo[fast]) = 1" in shop
    assert f"python{PY}dist(pyjwt) = 2" in shop


OLD_SPEC = f"""\
Name: old-names
Version: 1.0
Release: 3
Summary: rpmdeploy's names before they followed the distribution
License: MIT
BuildArch: noarch
%description
Old names.
%package -n python3-python-foo
Summary: python-foo as rpmdeploy used to name it
Provides: python3dist(python-foo) = 1
Requires: python(abi) = {PY}
%description -n python3-python-foo
Old.
%package -n python3-python-foo+fast
Summary: its extra
Requires: python3-python-foo = %{{version}}-%{{release}}
%description -n python3-python-foo+fast
Old.
%package -n base-python
Summary: a stand-in for the system's Python
Provides: python(abi) = {PY}
%description -n base-python
Stand-in.
%install
mkdir -p %{{buildroot}}{SITE}/foo
echo 'X = 0' > %{{buildroot}}{SITE}/foo/__init__.py
%files -n python3-python-foo
{SITE}/foo/__init__.py
%files -n python3-python-foo+fast
%files -n base-python
"""


def _dnf(root: Path, repos: dict[str, Path], *args: str) -> None:
    subprocess.run(
        [
            "dnf",
            "-y",
            "-q",
            f"--installroot={root}",
            "--setopt=reposdir=/dev/null",
            "--setopt=install_weak_deps=False",
            "--disableplugin=*",
            "--releasever=1",
            "--nogpgcheck",
            *(f"--repofrompath={name},{path.as_uri()}" for name, path in repos.items()),
            *(f"--repo={name}" for name in repos),
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def test_a_root_with_the_old_names_upgrades_cleanly(released: Released) -> None:
    """python3-python-foo-1.0-3 (a higher release than the new package's 1) is replaced by
    python3-foo-1.0-1 on `dnf upgrade`, its extra too; without the Obsoletes both would
    stay and clash on foo/__init__.py."""
    top = released.tmp / "old"
    (top / "SPECS").mkdir(parents=True)
    spec = top / "SPECS" / "old-names.spec"
    spec.write_text(OLD_SPEC)
    subprocess.run(
        ["rpmbuild", "-bb", "--define", f"_topdir {top}", "--define", "__os_install_post %{nil}"]
        + ["--define", "_build_id_links none", str(spec)],
        check=True,
        capture_output=True,
    )
    old = top / "RPMS" / "noarch"
    subprocess.run(["createrepo_c", "-q", str(old)], check=True)
    root = released.tmp / "root"
    _dnf(root, {"old": old}, "install", "python3-python-foo+fast")
    _dnf(root, {"old": old, "new": released.repo}, "upgrade")
    installed = subprocess.run(
        ["rpm", "--root", str(root), "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert "python3-foo-1.0-1" in installed
    assert "python3-foo+fast-1.0-1" in installed
    assert "python3-jwt-2.0-1" in installed  # the new extra's dependency came along
    assert not any(n.startswith("python3-python-foo") for n in installed)
    assert (root / SITE.lstrip("/") / "foo" / "__init__.py").read_text() == "X = 1\n"
