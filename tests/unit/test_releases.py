"""The release counter and its history: same inputs, same release; changed inputs, +1."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpmdeploy.changelog import describe_package, describe_pins, entry, rpm_date
from rpmdeploy.errors import RepoError
from rpmdeploy.releases import History, Published, check_conflicts

INPUTS = {"artifact": "a" * 64, "templates": "t1", "target": "fedora-43", "rpmdeploy": "0.1.0"}
DATE = 1700000000  # Tue Nov 14 2023


def plan(history: History, version: str, inputs: dict[str, str], date: int = DATE):  # type: ignore[no-untyped-def]
    return history.plan(
        "python3-blinker",
        version,
        inputs,
        date=date,
        packager="rpmdeploy",
        describe=lambda previous: describe_package(
            previous.record() if previous else None, version, version, inputs, "blinker.whl"
        ),
    )


# (what changes between two plans, expected second release, expected changelog item)
STEPS = [
    ("nothing", {}, "1.9.0", 1, None),
    ("templates", {"templates": "t2"}, "1.9.0", 2, "Rebuilt: the spec templates changed"),
    ("target", {"target": "rocky-9"}, "1.9.0", 2, "Rebuilt: the target changed"),
    ("rpmdeploy", {"rpmdeploy": "0.2.0"}, "1.9.0", 2, "Rebuilt: rpmdeploy 0.1.0 -> 0.2.0"),
    ("artifact", {"artifact": "b" * 64}, "1.9.0", 2, "Rebuilt: the upstream artifact changed"),
    ("version", {"artifact": "c" * 64}, "1.9.1", 1, "Update to 1.9.1 (from 1.9.0)"),
]


@pytest.mark.parametrize(("case", "change", "version", "release", "item"), STEPS)
def test_release_moves_only_when_inputs_change(
    case: str, change: dict[str, str], version: str, release: int, item: str | None
) -> None:
    history = History()
    first = plan(history, "1.9.0", INPUTS)
    assert (first.release, first.new) == (1, True)
    second = plan(history, version, {**INPUTS, **change}, date=DATE + 86400)
    assert second.release == release
    if item is None:
        assert (second.date, second.changelog, second.key) == (
            first.date,
            first.changelog,
            first.key,
        )
        assert not second.new
        return
    assert second.new
    newest = second.changelog[0]
    assert newest.items[0] == (item,)
    assert newest.header == f"Wed Nov 15 2023 rpmdeploy - {version}-{release}"
    assert second.changelog[1:] == first.changelog  # older entries as they were


def test_history_round_trip_gives_the_same_plans(tmp_path: Path) -> None:
    history = History()
    plan(history, "1.9.0", INPUTS)
    plan(history, "1.9.0", {**INPUTS, "templates": "t2"}, date=DATE + 1)
    path = tmp_path / "rpmdeploy-history.json"
    history.save(path)
    again = History.load(path)
    assert again.to_json() == history.to_json() == path.read_text()
    # elsewhere, from the same history: same number, same date (so the same bytes)
    replay = plan(again, "1.9.0", {**INPUTS, "templates": "t2"}, date=DATE + 999)
    assert (replay.release, replay.date, replay.new) == (2, DATE + 1, False)
    # going back to earlier inputs is a change too: a new, higher release
    back = plan(again, "1.9.0", INPUTS, date=DATE + 2)
    assert (back.release, back.new) == (3, True)


def test_published_releases_are_never_reused() -> None:
    history = History()
    history.seed([("python3-blinker", "1.9.0", "4"), ("python3-other", "1.9.0", "9")])
    assert plan(history, "1.9.0", INPUTS).release == 5


def test_changelog_dates_never_go_backwards_nor_before_1995() -> None:
    history = History()
    first = plan(history, "1.0", INPUTS, date=315532800)  # the 1980 default
    assert first.changelog[0].header.startswith("Mon Jan 02 1995 ")
    plan(history, "1.1", INPUTS, date=DATE)
    older = plan(history, "1.2", INPUTS, date=DATE - 86400 * 30)
    assert older.date == DATE


def test_malformed_history_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "rpmdeploy-history.json"
    for text in ("{", '{"format": 9, "packages": {}}', '{"format": 1, "packages": {"x": [{}]}}'):
        path.write_text(text)
        with pytest.raises(RepoError, match="not a valid rpmdeploy release history") as excinfo:
            History.load(path)
        assert "\n" not in excinfo.value.message
    assert History.load(tmp_path / "missing.json").to_json().startswith('{\n "format": 1')


def test_same_nevr_with_other_content_is_refused() -> None:
    same = Published("python3-a-1.0-1.noarch.rpm", "h1")
    check_conflicts([same], [same, Published("python3-b-1-1.noarch.rpm", "x")])
    with pytest.raises(RepoError, match=r"refusing to publish python3-a-1.0-1.noarch.rpm"):
        check_conflicts([Published("python3-a-1.0-1.noarch.rpm", "h2")], [same])


def test_changelog_text_helpers() -> None:
    assert rpm_date(0) == "Thu Jan 01 1970"
    assert describe_pins({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "2.1", "d": "4"}) == [
        "b 2 -> 2.1",
        "Removed c 3",
        "Added d 4",
    ]
    long = entry(DATE, "p", "1-1", ["word " * 40, "   "])
    assert all(len(line) <= 77 for item in long.items for line in item)
    assert len(long.items) == 1
