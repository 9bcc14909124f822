"""`rpmdeploy release` end to end: app directory -> verified, signed yum repository.

Real rpmbuild, createrepo_c, rpmsign, dnf (into temporary installroots) and puppet.  The
fixture app pins alpha[fast] (pure, extras), beta (setup.py sdist), delta, gamma-flit
(flit_core sdist) and cext (C extension), and its bin/wsgiapp imports them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rpm
from helpers import (
    AppDir,
    build_rpm,
    new_app,
    puppet,
    read_header,
    repin_delta_21,
    run_cli,
    throwaway_key,
    tree,
)

from rpmdeploy.render import shipped_templates

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dnf --installroot needs root")

WSGIAPP = """\
import alpha, cext, gamma_flit


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{alpha.VERSION} {cext.add(1, 2)} {gamma_flit.__version__}".encode()]
"""
TOML = '[app]\nname = "shop"\nversion = "1.0"\nsummary = "The shop"\n'


def make_app(root: Path, wheelhouse: Path) -> AppDir:
    app = new_app(root, wheelhouse, "alpha[fast]\ngamma-flit\ncext\n")
    (root / "bin" / "wsgiapp").write_text(WSGIAPP)
    (root / "rpmdeploy.toml").write_text(TOML)
    (root / "external-dependencies.txt").write_text("libffi\n")
    app.pin()
    return app


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> tuple[AppDir, Path]:
    """One app and one build cache for the module: each test publishes its own repo."""
    root = tmp_path_factory.mktemp("release")
    return make_app(root / "shop", wheelhouse), root / "cache"


def release(app: Path, repo: Path, cache: Path, *extra: str, expect: int | None = 0):  # type: ignore[no-untyped-def]
    return run_cli(
        "release",
        app,
        "--out",
        repo,
        "--cache-dir",
        cache,
        "--distro",
        "fedora-43",
        *extra,
        expect=expect,
    )


def published_before(files: dict[str, bytes]) -> dict[str, bytes]:
    """A repository's files but report.html, which says how this release went (times, cache)."""
    return {rel: data for rel, data in files.items() if rel != "report.html"}


def published(repo: Path) -> dict[str, bytes]:
    return published_before(tree(repo))


def test_release_installs_and_answers(shared: tuple[AppDir, Path], tmp_path: Path) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    result = release(app.path, repo, cache)
    assert "import check: passed (200 OK" in result.output
    assert "assumed distribution packages: libffi" in result.output
    packages = sorted(p.name for p in (repo / "Packages").iterdir())
    assert packages == [
        "python3-alpha+fast-1.0.0-1.noarch.rpm",
        "python3-alpha-1.0.0-1.noarch.rpm",
        "python3-beta-0.5^post1-1.noarch.rpm",
        "python3-cext-0.1-1.x86_64.rpm",
        "python3-delta-2.0-1.noarch.rpm",
        "python3-gamma-flit-1.2.0~rc1-1.noarch.rpm",
        "shop-1.0-1.noarch.rpm",
    ]
    assert len(list((repo / "SRPMS").glob("*.src.rpm"))) == 6
    assert (repo / "SRPMS" / "repodata" / "repomd.xml").is_file()
    assert "baseurl=" + repo.as_uri() in (repo / "shop.repo").read_text()
    # The repository alone installs the app into a fresh root and the app answers.
    verified = run_cli("verify", repo, "--cache-dir", tmp_path / "verify-cache")
    assert "dnf installed 8 package(s) into an empty root" in verified.output
    # its log goes to the cache it is given, like every command's
    assert len(list((tmp_path / "verify-cache" / "logs").glob("verify-*.log"))) == 1
    assert "import check: passed (200 OK 16 bytes)" in verified.output  # "1.0.0 3 1.2.0rc1"


def test_puppet_manifest_validates(shared: tuple[AppDir, Path], tmp_path: Path) -> None:
    if shutil.which("puppet") is None:
        pytest.skip("puppet is not installed (make test installs Debian's puppet)")
    app, cache = shared
    repo = tmp_path / "repo"
    release(app.path, repo, cache, "--base-url", "https://repo.example.com/shop")
    manifest = repo / "puppet" / "shop.pp"
    text = manifest.read_text()
    assert "baseurl         => 'https://repo.example.com/shop'" in text
    assert "ensure  => '1.0-1'" in text
    assert "service { 'shop':" in text
    result = puppet(tmp_path, "parser", "validate", str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr


def test_second_release_builds_nothing_and_publishes_the_same_repo(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    release(app.path, repo, cache)
    before = tree(repo)
    generation = os.readlink(repo)
    result = release(app.path, repo, cache)
    assert "6 packages: 0 built, 6 cached, 0 failed" in result.output
    # Nothing changed: neither verified nor published again; the repository is untouched,
    # byte for byte (its report.html included) and in the same generation.
    assert "nothing changed:" in result.output and "verified hello" not in result.output
    assert tree(repo) == before and os.readlink(repo) == generation
    assert published(repo) == published_before(before)


def test_changing_one_pin_rebuilds_it_and_prunes_the_old(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    shop, cache = shared
    app = tmp_path / "shop"
    shutil.copytree(shop.path, app)
    repo = tmp_path / "repo"
    release(app, repo, cache)
    repin_delta_21(app, tmp_path / "newer")
    result = release(app, repo, cache)
    # delta, and the app whose Requires name delta's exact version
    assert "6 packages: 2 built, 4 cached, 0 failed" in result.output
    names = {p.name for p in (repo / "Packages").iterdir()}
    assert "python3-delta-2.1-1.noarch.rpm" in names
    assert "python3-delta-2.0-1.noarch.rpm" not in names
    # the app's version did not change, its Requires did: Release 2, saying why
    assert "shop-1.0-2.noarch.rpm" in names and "shop-1.0-1.noarch.rpm" not in names
    header = read_header(repo / "Packages" / "shop-1.0-2.noarch.rpm")
    assert header[rpm.RPMTAG_CHANGELOGNAME][0] == "rpmdeploy - 1.0-2"
    assert "- Pinned: delta 2.0 -> 2.1" in header[rpm.RPMTAG_CHANGELOGTEXT][0]
    assert "4 pruned" in result.output  # delta 2.0-1 and shop 1.0-1, RPM and SRPM


def test_a_failing_package_leaves_the_repo_intact(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    shop, cache = shared
    repo = tmp_path / "repo"
    release(shop.path, repo, cache)
    before = tree(repo)
    app = make_app(tmp_path / "broken-shop", shop.wheelhouse)
    app.write_in("alpha[fast]\ngamma-flit\ncext\nbroken\n")
    app.pin()
    result = release(app.path, repo, cache, expect=1)
    assert "FAILED python3-broken 1.0" in result.output
    assert "nothing published: the repository is as it was" in result.output
    assert tree(repo) == before


def test_a_killed_release_leaves_the_repo_intact(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    shop, cache = shared
    repo = tmp_path / "repo"
    release(shop.path, repo, cache)
    before = tree(repo)
    # A cold cache, so the killed run is busy building when the signal comes.
    cold = tmp_path / "cold-cache"
    argv = [
        sys.executable,
        "-m",
        "rpmdeploy",
        "release",
        str(shop.path),
        "--out",
        str(repo),
        "--cache-dir",
        str(cold),
        "--distro",
        "fedora-43",
        "--jobs",
        "1",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until the first package is done: builds are under way
        if "built" in line:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert tree(repo) == before
    # and the next run completes, starting from what the killed one left
    release(shop.path, repo, cold)
    assert tree(repo)["Packages/shop-1.0-1.noarch.rpm"] == before["Packages/shop-1.0-1.noarch.rpm"]


def test_a_second_release_at_the_same_time_is_refused(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    release(app.path, repo, cache)
    before = tree(repo)
    # Hold the lock as a running release would (the lock file records the holder's pid).
    lock = tmp_path / ".repo.lock"
    with lock.open("r+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        holder.write("4242\n")
        holder.flush()
        result = release(app.path, repo, cache, expect=75)  # EX_TEMPFAIL: try again later
    assert result.output.strip().endswith(
        f"another rpmdeploy release is publishing to {repo} (pid 4242); try again when it finishes"
    )
    assert tree(repo) == before
    # Two real releases at once: one publishes, the other is refused or runs after; the
    # repository is whole either way.
    argv = [
        sys.executable,
        "-m",
        "rpmdeploy",
        "release",
        str(app.path),
        "--out",
        str(repo),
        "--cache-dir",
        str(cache),
        "--distro",
        "fedora-43",
    ]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes[0] == 0, outputs
    if codes[1] != 0:
        assert any("another rpmdeploy release is publishing" in o for o in outputs), outputs
    assert published(repo) == published_before(before)
    assert "import check: passed" in run_cli("verify", repo).output


def test_signed_release_and_tampering(shared: tuple[AppDir, Path], tmp_path: Path) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    with throwaway_key() as key:
        assert key.gnupghome is not None
        result = release(
            app.path, repo, cache, "--sign", key.key_id, "--gnupghome", str(key.gnupghome)
        )
    assert "signatures: 13 package(s) signed by RPM-GPG-KEY-repo" in result.output
    assert (repo / "repodata" / "repomd.xml.asc").is_file()
    assert "gpgcheck=1" in (repo / "shop.repo").read_text()
    keyring = tmp_path / "keyring"
    keyring.mkdir()
    subprocess.run(
        ["rpmkeys", "--dbpath", str(keyring), "--import", str(repo / "RPM-GPG-KEY-repo")],
        check=True,
    )
    checked = subprocess.run(
        [
            "rpmkeys",
            "--dbpath",
            str(keyring),
            "--define",
            "_pkgverify_level all",
            "--checksig",
            *map(str, (repo / "Packages").iterdir()),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
    assert "verified" in run_cli("verify", repo).output
    # Flip bytes in the payload of one published package: verify names it.
    victim = repo / "Packages" / "python3-delta-2.0-1.noarch.rpm"
    data = bytearray(victim.read_bytes())
    data[-200] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = run_cli("verify", repo, expect=None)
    assert result.exit_code != 0
    assert "python3-delta-2.0-1.noarch.rpm" in result.output
    assert result.output.startswith("rpmdeploy: error: ")


def test_timing_is_reported(shared: tuple[AppDir, Path], tmp_path: Path) -> None:
    app, cache = shared
    started = time.monotonic()
    result = release(app.path, tmp_path / "repo", cache, "--no-verify")
    assert "verification skipped (--no-verify)" in result.output
    assert "published " in result.output and " MB" in result.output
    assert time.monotonic() - started < 120


def test_release_refuses_unpinned_and_pins_when_asked(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    shop, cache = shared
    app = new_app(tmp_path / "fresh", shop.wheelhouse, "delta\n")
    (app.path / "rpmdeploy.toml").write_text(TOML)
    (app.path / "external-dependencies.txt").write_text("")
    repo = tmp_path / "repo"
    result = release(app.path, repo, cache, expect=1)
    assert "dependencies.txt not found: run 'rpmdeploy pin" in result.output
    assert not repo.exists()
    result = release(
        app.path, repo, cache, "--pin", "--no-index", "--find-links", str(shop.wheelhouse)
    )
    assert "delta==2.0" in app.pinned.read_text()
    assert sorted(p.name for p in (repo / "Packages").iterdir()) == [
        "python3-delta-2.0-1.noarch.rpm",
        "shop-1.0-1.noarch.rpm",
    ]


def test_publishing_into_the_app_directory_is_refused(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    """`release . --out .` once moved the app's own checkout aside: now refused, one line."""
    shop, cache = shared
    app = tmp_path / "shop"
    shutil.copytree(shop.path, app)
    before = sorted(p.name for p in app.iterdir())
    for out in (app, app / "repo", tmp_path):
        result = release(app, out, cache, expect=2)
        assert "refusing to publish into" in result.output
        assert result.output.count("\n") <= 2
    assert sorted(p.name for p in app.iterdir()) == before
    assert not os.path.lexists(app / "repo")


def test_app_problems_stop_the_release_before_any_build(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    shop, _cache = shared
    app = tmp_path / "shop"
    shutil.copytree(shop.path, app)
    (app / "rpmdeploy.toml").write_text('[app]\nname = "shop"\n')
    result = release(app, tmp_path / "repo", tmp_path / "cold-cache", expect=2)  # usage error
    assert "the app has no version" in result.output
    assert "built" not in result.output
    assert not (tmp_path / "cold-cache" / "builds").exists()


def _export(key, dest: Path) -> Path:  # type: ignore[no-untyped-def]
    """The public key of a throwaway key, as a file the operator would pass to --key."""
    out = subprocess.run(
        ["gpg", "--homedir", str(key.gnupghome), "--armor", "--export", key.key_id],
        capture_output=True,
        check=True,
    ).stdout
    dest.write_bytes(out)
    return dest


def test_verify_trusts_only_the_operator_not_the_repository(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    """A repository that lies about itself in rpmdeploy-release.json ("not signed", an
    interpreter to run) is checked against the operator's key anyway, and runs nothing."""
    app, cache = shared
    repo = tmp_path / "repo"
    marker = tmp_path / "record-python-ran"
    evil = tmp_path / "evil-python"
    evil.write_text(f'#!/bin/sh\ntouch {marker}\nexec /usr/bin/python3 "$@"\n')
    evil.chmod(0o755)
    with throwaway_key() as trusted, throwaway_key("other@example.invalid") as other:
        assert trusted.gnupghome is not None
        release(
            app.path, repo, cache, "--sign", trusted.key_id, "--gnupghome", str(trusted.gnupghome)
        )
        trusted_key = _export(trusted, tmp_path / "trusted.asc")
        other_key = _export(other, tmp_path / "other.asc")
    record_path = repo / "rpmdeploy-release.json"
    record = json.loads(record_path.read_text())
    record.update(signed=False, python=str(evil))
    record_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")

    ok = run_cli("verify", repo, "--key", trusted_key)
    assert "signed by trusted.asc" in ok.output
    assert not marker.exists()  # the record's interpreter never ran
    # Signed by another key than the one the operator trusts: fails, naming a package.
    bad = run_cli("verify", repo, "--key", other_key, expect=None)
    assert bad.exit_code != 0 and "signature check failed against other.asc" in bad.output
    # Without --key, the key shipped in the repository is used, and the report says so.
    shipped = run_cli("verify", repo)
    assert "checked only against the key shipped inside the repository" in shipped.output


def test_verify_with_a_key_refuses_an_unsigned_repository(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    release(app.path, repo, cache)
    with throwaway_key() as trusted:
        trusted_key = _export(trusted, tmp_path / "trusted.asc")
    result = run_cli("verify", repo, "--key", trusted_key, expect=None)
    assert result.exit_code != 0
    assert "is not signed" in result.output and result.output.count("\n") == 1


# --- release numbers, changelogs, rpmlint (issue 9) -------------------------------------------


def test_changed_template_moves_every_package_release(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    release(app.path, repo, cache, "--no-verify")
    templates = tmp_path / "templates" / "package"
    templates.mkdir(parents=True)
    shipped = (shipped_templates() / "package" / "python-package.spec.j2").read_text()
    (templates / "python-package.spec.j2").write_text(shipped + "# a site's own change\n")
    result = release(
        app.path, repo, cache, "--no-verify", "--template-dir", str(tmp_path / "templates")
    )
    assert "6 packages: 5 built, 1 cached, 0 failed" in result.output  # the app: unchanged
    names = sorted(p.name for p in (repo / "Packages").iterdir())
    assert "python3-delta-2.0-2.noarch.rpm" in names and "shop-1.0-1.noarch.rpm" in names
    assert not any(n.startswith("python3-delta-2.0-1.") for n in names)
    header = read_header(repo / "Packages" / "python3-delta-2.0-2.noarch.rpm")
    assert header[rpm.RPMTAG_CHANGELOGNAME] == ["rpmdeploy - 2.0-2", "rpmdeploy - 2.0-1"]
    assert header[rpm.RPMTAG_CHANGELOGTEXT][0] == "- Rebuilt: the spec templates changed"
    # and again with the same templates: the same NEVRs, the same bytes
    before = tree(repo)
    release(app.path, repo, cache, "--no-verify", "--template-dir", str(tmp_path / "templates"))
    assert published(repo) == published_before(before)


def test_same_nevr_with_other_content_is_never_published(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    release(app.path, repo, cache, "--no-verify")
    # Someone put another python3-delta-2.0-1 into the published repository.
    impostor = build_rpm(tmp_path / "rpmbuild", "python3-delta", "2.0").rpm
    shutil.copy(impostor, repo / "Packages" / "python3-delta-2.0-1.noarch.rpm")
    before = tree(repo)
    result = release(app.path, repo, cache, "--no-verify", expect=None)
    assert result.exit_code != 0
    assert "refusing to publish python3-delta-2.0-1.noarch.rpm" in result.output
    assert result.output.splitlines()[-1].startswith("rpmdeploy: error: ")
    assert tree(repo) == before


def test_release_lint_finds_no_errors(shared: tuple[AppDir, Path], tmp_path: Path) -> None:
    app, cache = shared
    repo = tmp_path / "repo"
    result = release(app.path, repo, cache, "--no-verify", "--lint")
    assert "rpmlint: 13 packages checked, 0 errors" in result.output
    assert "licences guessed or unknown (1):" in result.output  # beta: "BSD"
    assert (repo / "rpmdeploy-licenses.json").is_file()


def test_seed_standard_app_directory_releases_as_is(
    shared: tuple[AppDir, Path], tmp_path: Path
) -> None:
    """dependencies.txt, external-dependencies.txt and bin/wsgiapp in a git checkout, and
    nothing else: the version comes from git, the name from the directory."""
    shop, cache = shared
    seed = tmp_path / "seed-app"
    (seed / "bin").mkdir(parents=True)
    shutil.copy(shop.path / "bin" / "wsgiapp", seed / "bin" / "wsgiapp")
    shutil.copy(shop.pinned, seed / "dependencies.txt")
    (seed / "external-dependencies.txt").write_text("libffi\n")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.invalid",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.invalid",
        "GIT_COMMITTER_DATE": "2024-05-06T07:08:09+00:00",
    }
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "first release"]):
        subprocess.run(["git", "-C", str(seed), *args], env=env, check=True)
    short = subprocess.run(
        ["git", "-C", str(seed), "rev-parse", "--short=7", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    repo = tmp_path / "repo"
    result = release(seed, repo, cache)
    assert "import check: passed (200 OK" in result.output
    app_rpm = repo / "Packages" / f"seed-app-0^20240506git{short}-1.noarch.rpm"
    assert app_rpm.is_file(), sorted(p.name for p in (repo / "Packages").iterdir())
    assert "- first release" in read_header(app_rpm)[rpm.RPMTAG_CHANGELOGTEXT][0]
    subprocess.run(["git", "-C", str(seed), "tag", "v1.2.0"], check=True)
    release(seed, repo, cache, "--no-verify")
    assert (repo / "Packages" / "seed-app-1.2.0-1.noarch.rpm").is_file()


def test_release_and_verify_json(shared: tuple[AppDir, Path], tmp_path: Path) -> None:
    from importlib import resources

    import jsonschema

    schema = json.loads(
        resources.files("rpmdeploy").joinpath("data", "report.schema.json").read_text()
    )
    app, cache = shared
    repo = tmp_path / "repo"
    out = release(app.path, repo, cache, "--format", "json").output
    doc = json.loads(out[out.index("{\n") :])
    jsonschema.validate(doc, schema)
    assert doc["ok"] and doc["repository"]["path"] == str(repo)
    assert doc["verification"]["proven"]["import_check"] == "passed"
    assert doc["verification"]["proven"]["module_imports"].startswith("passed")
    # the app's external-dependencies.txt (libffi) grew the declared base, with its sonames
    declared = {d["capability"]: d["source"] for d in doc["verification"]["assumed"]["declared"]}
    assert declared["libffi"] == "libffi (external-dependencies.txt)"
    assert Path(doc["logs"]).is_dir() and (Path(doc["logs"]) / "verify.log").is_file()
    assert isinstance(doc["notes"], list)
    assert "python3-delta-2.0-1.noarch.rpm" in " ".join(doc["repository"]["added"])
    verified = run_cli("verify", repo, "--format", "json").output
    vdoc = json.loads(verified[verified.index("{\n") :])
    jsonschema.validate(vdoc, schema)
    assert vdoc["kind"] == "verify" and vdoc["package"] == "shop"
