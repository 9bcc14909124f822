"""verify: the stand-in base, repoclosure, an install into an empty root that leaves the host
alone, signature checks (a tampered package is named), and the import check."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Built, build_rpm, python311_host, throwaway_key

from rpmdeploy.errors import VerifyError
from rpmdeploy.repo import public_key_name, publish_repo
from rpmdeploy.sign import SigningKey
from rpmdeploy.targets import Target, resolve_target
from rpmdeploy.verify import (
    ImportCheck,
    TargetPythonUnavailable,
    VerifyReport,
    base_provides_for,
    run_in_installroot_python,
    verify_repo,
    wsgi_check,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dnf --installroot needs root")

SITE = "/usr/lib/python3.11/site-packages"
WSGI_MODULE = (
    "import helper\n"
    "def application(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    return [helper.GREETING]\n"
)
C_PROGRAM = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n'
IMPORT_CHECK = (
    "import myapp_wsgi\n"
    "body = myapp_wsgi.application({}, lambda status, headers: None)\n"
    "print(b''.join(body).decode())\n"
)

# Host paths dnf or rpm would write to if verify were not isolated.
HOST_STATE = [
    Path("/var/lib/rpm"),
    Path("/var/lib/dnf"),
    Path("/var/cache/dnf"),
    Path("/var/log"),
    Path.home() / ".rpmdb",
]


@pytest.fixture(scope="module")
def target() -> Target:
    return python311_host()


@pytest.fixture(scope="module")
def pkgs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    top = tmp_path_factory.mktemp("rpmbuild")
    return {
        "app": build_rpm(
            top,
            "myapp",
            "1.0",
            requires=("python(abi) = 3.11", "python3-helper = 2.0-1", "libpq >= 13"),
            files={f"{SITE}/myapp_wsgi.py": WSGI_MODULE},
        ),
        "helper": build_rpm(
            top,
            "python3-helper",
            "2.0",
            requires=("python(abi) = 3.11", "nativetool"),
            files={f"{SITE}/helper.py": "GREETING = b'hello from the rpm'\n"},
        ),
        # An ELF binary: rpm adds libc.so.6(GLIBC_...)(64bit) requires the stand-in must meet.
        "native": build_rpm(top, "nativetool", "1.0", c_program=C_PROGRAM),
        "broken": build_rpm(
            top, "broken", "1.0", requires=("nosuchlib >= 2", "python(abi) = 3.11")
        ),
    }


@pytest.fixture(scope="module")
def key() -> Iterator[SigningKey]:
    with throwaway_key() as made:
        yield made


def publish(repo: Path, built: list[Built], log: Path, key: SigningKey | None = None) -> Path:
    publish_repo(repo, [b.rpm for b in built], [b.srpm for b in built], signing=key, log=log)
    return repo


def host_state() -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of everything under the host paths dnf/rpm must not touch."""
    state = {}
    for top in HOST_STATE:
        if not top.exists():
            state[str(top)] = (-1, -1)
            continue
        paths = [top, *top.rglob("*")] if top.name != "log" else list(top.glob("*"))
        for path in paths:
            if top.name == "log" and not path.name.startswith(("dnf", "hawkey")):
                continue
            info = path.lstat()
            state[str(path)] = (info.st_size, info.st_mtime_ns)
    return state


def test_verify_installs_into_an_empty_root_and_runs_the_app(
    tmp_path: Path, pkgs: dict[str, Built], target: Target
) -> None:
    repo = publish(
        tmp_path / "repo", [pkgs["app"], pkgs["helper"], pkgs["native"]], tmp_path / "log"
    )
    before = host_state()
    report = verify_repo(
        repo,
        "myapp",
        target,
        base_provides=base_provides_for(target),
        assumed_packages=("libpq",),
        check_signatures=False,
        gpg_key=None,
        import_check=ImportCheck(IMPORT_CHECK),
        log=tmp_path / "verify.log",
    )
    assert host_state() == before, "verify wrote to the host's rpm/dnf state"
    names = [nevra.rsplit("-", 2)[0] for nevra in report.installed]
    assert names == ["myapp", "nativetool", "python3-helper", "rpmdeploy-target-base"]
    assert report.import_check == "passed"
    assert report.import_output.strip() == "hello from the rpm"
    assert report.assumed_packages == ("libpq",)
    assert "python(abi) = 3.11" in report.assumed
    assert [step for step, _secs in report.timings] == [
        "stand-in",
        "repoclosure",
        "install",
        "module imports",
        "import check",
    ]
    text = report.text()
    assert "ASSUMED, not proven" in text and "libpq" in text and "python(abi) = 3.11" in text


def test_import_check_failure_is_reported(
    tmp_path: Path, pkgs: dict[str, Built], target: Target
) -> None:
    repo = publish(tmp_path / "repo", [pkgs["helper"], pkgs["native"]], tmp_path / "log")
    with pytest.raises(VerifyError, match="ModuleNotFoundError: No module named 'myapp_wsgi'"):
        verify_repo(
            repo,
            "python3-helper",
            target,
            base_provides=base_provides_for(target),
            check_signatures=False,
            gpg_key=None,
            import_check=ImportCheck("import helper, myapp_wsgi"),
            log=tmp_path / "verify.log",
        )


def test_repoclosure_failure_is_one_clear_line(
    tmp_path: Path, pkgs: dict[str, Built], target: Target
) -> None:
    repo = publish(tmp_path / "repo", [pkgs["broken"], pkgs["helper"]], tmp_path / "log")
    with pytest.raises(VerifyError) as caught:
        verify_repo(
            repo,
            "broken",
            target,
            base_provides=base_provides_for(target),
            check_signatures=False,
            gpg_key=None,
            log=tmp_path / "verify.log",
        )
    error = caught.value
    assert error.message == (
        "2 unresolved dependencies (declare what the target system has in "
        "external-dependencies.txt or [verify] assume in rpmdeploy.toml): "
        "broken-1.0-1.noarch needs nosuchlib >= 2; python3-helper-2.0-1.noarch needs nativetool"
    )
    assert error.log == str(tmp_path / "verify.log")


def test_signed_repo_verifies_and_a_tampered_package_is_named(
    tmp_path: Path, pkgs: dict[str, Built], target: Target, key: SigningKey
) -> None:
    repo = publish(
        tmp_path / "srv" / "myapp",
        [pkgs["app"], pkgs["helper"], pkgs["native"]],
        tmp_path / "log",
        key,
    )
    public = repo / public_key_name(repo)
    args = {
        "base_provides": base_provides_for(target),
        "assumed_packages": ("libpq",),
        "check_signatures": True,
        "gpg_key": public,
        "log": tmp_path / "verify.log",
    }
    report = verify_repo(repo, "myapp", target, **args)  # type: ignore[arg-type]
    assert report.signatures.startswith("6 package(s) signed by RPM-GPG-KEY-myapp")

    tampered = tmp_path / "tampered"
    shutil.copytree(repo.resolve(), tampered)
    victim = tampered / "Packages" / "python3-helper-2.0-1.noarch.rpm"
    data = bytearray(victim.read_bytes())
    data[-200] ^= 0xFF  # inside the payload
    victim.write_bytes(bytes(data))
    with pytest.raises(VerifyError) as caught:
        verify_repo(tampered, "myapp", target, **args)  # type: ignore[arg-type]
    assert "signature check failed" in caught.value.message
    assert "Packages/python3-helper-2.0-1.noarch.rpm" in caught.value.message
    assert "myapp-1.0" not in caught.value.message

    # A key that did not sign the repository: every package fails.
    with throwaway_key("stranger@example.invalid") as stranger:
        other = publish(tmp_path / "other", [pkgs["native"]], tmp_path / "log", stranger)
        with pytest.raises(VerifyError, match="signature check failed"):
            verify_repo(other, "nativetool", target, **args)  # type: ignore[arg-type]


def test_import_check_needs_the_targets_python(tmp_path: Path, target: Target) -> None:
    other = dataclasses.replace(target, python_version="3.9")
    with pytest.raises(TargetPythonUnavailable, match=r"target Python 3\.9 not on this machine"):
        run_in_installroot_python(tmp_path, other, "print(1)")
    # The host's own site-packages are not on the path: only what the RPMs installed is.
    (tmp_path / SITE.lstrip("/")).mkdir(parents=True)
    with pytest.raises(VerifyError, match="No module named 'rpm'"):
        run_in_installroot_python(tmp_path, target, "import rpm")


def test_wsgi_check_is_a_static_script_taking_its_paths_as_data(
    tmp_path: Path, target: Target
) -> None:
    # Paths with quotes and a would-be statement: as JSON data they are only paths.
    app_dir = '/opt/it\'s "odd"); import os; os._exit(3); ('
    site = "/opt/site's"
    (tmp_path / app_dir.lstrip("/") / "bin").mkdir(parents=True)
    (tmp_path / site.lstrip("/")).mkdir(parents=True)
    (tmp_path / site.lstrip("/") / "greeting.py").write_text("TEXT = b'hi from site'\n")
    (tmp_path / app_dir.lstrip("/") / "bin" / "wsgiapp").write_text(
        "import greeting\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [greeting.TEXT]\n"
    )
    check = wsgi_check(app_dir, [site])
    assert app_dir not in check.code  # the script is the same for every app
    output = run_in_installroot_python(tmp_path, target, check.code, arguments=check.arguments)
    assert output.strip() == "200 OK 12 bytes"
    missing = wsgi_check("/opt/nothing-here")
    with pytest.raises(VerifyError, match="/opt/nothing-here/bin/wsgiapp"):
        run_in_installroot_python(tmp_path, target, missing.code, arguments=missing.arguments)


def test_base_provides_follow_the_targets_glibc_and_python() -> None:
    rocky9 = base_provides_for(resolve_target("rocky-9-x86_64"))
    assert "python(abi) = 3.9" in rocky9 and "/usr/bin/python3" in rocky9
    assert "libc.so.6(GLIBC_2.34)(64bit)" in rocky9
    assert "libc.so.6(GLIBC_2.35)(64bit)" not in rocky9
    assert "libstdc++.so.6(GLIBCXX_3.4.29)(64bit)" in rocky9
    assert "libstdc++.so.6(GLIBCXX_3.4.30)(64bit)" not in rocky9
    assert "rtld(GNU_HASH)" in rocky9
    el8 = base_provides_for(resolve_target("almalinux-8-aarch64"))
    assert "ld-linux-aarch64.so.1(GLIBC_2.17)(64bit)" in el8
    assert "libc.so.6(GLIBC_2.29)(64bit)" not in el8


# --- the declared base grows, and module imports (issue #8, item 5) ---------------------------


def package_rpm(
    top: Path,
    name: str,
    *,
    requires: tuple[str, ...] = (),
    provides: tuple[str, ...] = (),
    files: dict[str, str] | None = None,
    native: bool = False,
) -> Built:
    """A tiny package with Provides too (build_rpm has none), noarch or of this machine's arch."""
    files = files or {}
    install = [
        f"mkdir -p %{{buildroot}}{os.path.dirname(path)}\n"
        f"cat > %{{buildroot}}{path} <<'EOF'\n{text}EOF"
        for path, text in files.items()
    ]
    spec = "\n".join(
        [
            f"Name: {name}",
            "Version: 1.0",
            "Release: 1",
            f"Summary: test package {name}",
            "License: MIT",
            *([] if native else ["BuildArch: noarch"]),
            *(f"Requires: {r}" for r in requires),
            *(f"Provides: {p}" for p in provides),
            "%description",
            f"Test package {name}.",
            "%install",
            *install,
            "%files",
            *files,
            "",
        ]
    )
    (top / "SPECS").mkdir(parents=True, exist_ok=True)
    path = top / "SPECS" / f"{name}.spec"
    path.write_text(spec)
    subprocess.run(
        [
            "rpmbuild",
            "-ba",
            "--nodeps",  # and a private rpmdb: the host's is not touched
            "--define",
            f"_dbpath {top / 'rpmdb'}",
            "--define",
            f"_topdir {top}",
            "--define",
            "__os_install_post %{nil}",
            "--define",
            "debug_package %{nil}",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    arch = os.uname().machine if native else "noarch"
    return Built(
        rpm=top / "RPMS" / arch / f"{name}-1.0-1.{arch}.rpm",
        srpm=top / "SRPMS" / f"{name}-1.0-1.src.rpm",
    )


def dist_files(name: str, module: str, *, record: bool = False) -> dict[str, str]:
    """``module`` plus a dist-info naming it in top_level.txt (or only in its RECORD)."""
    info = f"{SITE}/{name}-1.0.dist-info"
    files = {f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"}
    if record:
        files[f"{info}/RECORD"] = f"{module}/__init__.py,,\n{name}-1.0.dist-info/METADATA,,\n"
    else:
        files[f"{info}/top_level.txt"] = f"{module}\n"
    return files


MISSING_LIBRARY = (
    "raise ImportError('libfoo.so.1: cannot open shared object file: No such file or directory')\n"
)


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    top = tmp_path_factory.mktemp("grown")
    return {
        # Compiled code of a package rpmdeploy's table knows (psycopg2 -> libpq): its soname
        # and a symbol version of it are declared without the app saying anything.
        "pg": package_rpm(
            top,
            "python3-psycopg2",
            native=True,
            requires=("python(abi) = 3.11", "libpq.so.5()(64bit)", "libpq.so.5(RHPG_10)(64bit)"),
            provides=("python3dist(psycopg2) = 2.9",),
            files={
                **dist_files("psycopg2", "psycopg2", record=True),
                f"{SITE}/psycopg2/__init__.py": "OK = True\n",
            },
        ),
        "yaml": package_rpm(top, "python3-yamlish", requires=("libyaml-0.so.2()(64bit)",)),
        "needslib": package_rpm(
            top,
            "python3-needslib",
            requires=("libfoo.so.1()(64bit)",),
            files={**dist_files("needslib", "needslib"), f"{SITE}/needslib.py": MISSING_LIBRARY},
        ),
        "bad": package_rpm(
            top,
            "python3-bad",
            files={**dist_files("bad", "bad"), f"{SITE}/bad.py": "raise RuntimeError('boom')\n"},
        ),
    }


def verify(repo: Path, package: str, target: Target, log: Path, **more: object) -> VerifyReport:
    return verify_repo(
        repo,
        package,
        target,
        base_provides=base_provides_for(target),
        check_signatures=False,
        gpg_key=None,
        log=log,
        **more,  # type: ignore[arg-type]
    )


def test_a_compiled_packages_system_library_is_declared_and_relied_on(
    tmp_path: Path, grown: dict[str, Built], target: Target
) -> None:
    repo = publish(tmp_path / "repo", [grown["pg"]], tmp_path / "log")
    report = verify(repo, "python3-psycopg2", target, tmp_path / "verify.log")
    assert "libpq.so.5()(64bit)" in report.assumed
    assert ("libpq.so.5()(64bit)", "libpq (system library of psycopg2)") in report.declared
    assert report.relied_on == ("libpq.so.5()(64bit)", "libpq.so.5(RHPG_10)(64bit)")
    assert report.assumed_packages == ("libpq",)
    # The package's top-level module (from its RECORD) was imported in the installed tree.
    assert report.module_imports == "passed: 1 module(s) of 1 package(s)"
    text = report.text()
    assert "ASSUMED for this app and its packages: libpq (system library of psycopg2): " in text
    assert "of which the packages relied on: libpq.so.5()(64bit)" in text


def test_a_missing_library_names_its_package_and_how_to_declare_it(
    tmp_path: Path, grown: dict[str, Built], target: Target
) -> None:
    repo = publish(tmp_path / "repo", [grown["yaml"]], tmp_path / "log")
    with pytest.raises(VerifyError) as caught:
        verify(repo, "python3-yamlish", target, tmp_path / "verify.log")
    message = caught.value.message
    assert message.startswith(
        "1 unresolved dependency (declare what the target system has in "
        "external-dependencies.txt or [verify] assume in rpmdeploy.toml): "
        "python3-yamlish-1.0-1.noarch needs libyaml-0.so.2()(64bit) (shipped by libyaml on "
    ), message
    assert message.endswith(": add libyaml to external-dependencies.txt)")
    # Declared by the app, it verifies, and the report says it was assumed.
    report = verify(
        repo,
        "python3-yamlish",
        target,
        tmp_path / "verify.log",
        assume=("libyaml-0.so.2()(64bit)",),
    )
    assert ("libyaml-0.so.2()(64bit)", "[verify] assume") in report.declared
    assert report.relied_on == ("libyaml-0.so.2()(64bit)",)
    # So does naming the package in external-dependencies.txt (the record's packages).
    report = verify(
        repo, "python3-yamlish", target, tmp_path / "verify.log", assumed_packages=("libyaml",)
    )
    assert report.relied_on == ("libyaml-0.so.2()(64bit)",)


def test_module_imports_fail_on_a_broken_module_and_say_what_was_not_proven(
    tmp_path: Path, grown: dict[str, Built], target: Target
) -> None:
    repo = publish(tmp_path / "repo", [grown["needslib"]], tmp_path / "log")
    bad = publish(tmp_path / "bad", [grown["bad"]], tmp_path / "log")
    assume = {"assume": ("libfoo.so.1()(64bit)",)}
    report = verify(repo, "python3-needslib", target, tmp_path / "verify.log", **assume)
    # The library is assumed of the target and absent here: not proven, not failed.
    assert report.module_imports == (
        "passed: 0 module(s) of 1 package(s); not proven here, a library the target is "
        "assumed to have is not on this machine: needslib (needslib) needs libfoo.so.1"
    )
    with pytest.raises(VerifyError) as caught:
        verify(bad, "python3-bad", target, tmp_path / "verify.log")
    assert caught.value.message == (
        "importing the installed packages' modules failed: bad (bad): RuntimeError: boom"
    )
    # Without an interpreter of the target's Python nothing is imported, and it says so.
    report = verify(
        bad,
        "python3-bad",
        target,
        tmp_path / "verify.log",
        interpreter=str(tmp_path / "no-python"),
        import_check=wsgi_check("/opt/nothing"),
    )
    assert report.module_imports.startswith("not run: target Python 3.11 not on this machine")
    assert report.import_check.startswith("skipped: target Python 3.11 not on this machine")
