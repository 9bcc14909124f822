"""One reader of artifact file names: project and version of wheels and sdists, None else."""

from __future__ import annotations

from packaging.version import Version

from rpmdeploy.filenames import artifact_key, project_name


def test_wheels_and_sdists_give_their_canonical_project_and_version() -> None:
    assert artifact_key("Foo_Bar-1.0-py3-none-any.whl") == ("foo-bar", Version("1.0"))
    assert artifact_key("foo_bar-2.0rc1.tar.gz") == ("foo-bar", Version("2.0rc1"))
    assert artifact_key("foo-1.0.zip") == ("foo", Version("1.0"))
    assert project_name("markupsafe-3.0.3-cp39-cp39-manylinux2014_x86_64.whl") == "markupsafe"


def test_anything_else_is_none() -> None:
    for name in ("README", "foo-1.0.exe", "foo.whl", "foo-notaversion.tar.gz", "-1.0.tar.gz"):
        assert artifact_key(name) is None, name
        assert project_name(name) is None, name
