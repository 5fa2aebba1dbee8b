"""What pwapply remembers of what it applied (record.py): typed where it is read, never
an error when it cannot be read or written, bounded in size."""

from __future__ import annotations

import json

import pytest

from pwapply import record
from pwapply.errors import InputError
from pwapply.sources.connection import Connection
from pwapply.sources.model import PATCHWORK, Key, Known
from pwapply.sources.table import open_source


def applied(msgid: str, series: int, server: str, project: str, version: int) -> record.Applied:
    return record.Applied(msgid, Known(Key(PATCHWORK, server, str(series)), version), project)


def test_nothing_recorded_yet_is_an_empty_record(tmp_path):
    r = record.load(str(tmp_path))
    assert r.patches == {} and r.commits == {}
    assert r.lookup("m@x") is None and r.lost_trailer_msgid("A <a@x> 1 +0000", "s") is None


def test_what_is_added_is_found_again(tmp_path):
    made = applied("m@x", 7, "https://pw.example.org", "qemu-devel", 2)
    record.add(str(tmp_path), [made], [("A <a@x> 1700000000 +0000", "file1: Fix", "m@x")])
    r = record.load(str(tmp_path))
    assert r.lookup("m@x") == made
    assert r.lost_trailer_msgid("A <a@x> 1700000000 +0000", "file1: Fix") == "m@x"
    assert [p.name for p in (tmp_path / "pwapply").iterdir()] == ["applied.json"]  # no temporary file left


def test_a_damaged_record_is_read_as_far_as_it_makes_sense(tmp_path):
    path = tmp_path / "pwapply" / "applied.json"
    path.parent.mkdir()
    path.write_text("{not json")
    assert record.load(str(tmp_path)).patches == {}
    path.write_text(json.dumps(["a", "list"]))
    assert record.load(str(tmp_path)).patches == {}
    path.write_text(
        json.dumps(
            {
                "patches": {
                    "good@x": {"series": 3, "server": "https://s", "project": "p", "version": 1},
                    "bad@x": {"series": "three", "server": "https://s"},
                    "worse@x": "nothing",
                },
                "commits": {"k": "good@x", "j": 5},
            }
        )
    )
    r = record.load(str(tmp_path))
    assert list(r.patches) == ["good@x"] and r.commits == {"k": "good@x"}


def test_the_record_is_bounded_newest_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "MAX_ENTRIES", 3)
    for i in range(5):
        record.add(str(tmp_path), [applied(f"{i}@x", i, "https://s", "p", 1)], [])
    record.add(str(tmp_path), [applied("1@x", 1, "https://s", "p", 1)], [])  # re-added: newest again
    assert list(record.load(str(tmp_path)).patches) == ["3@x", "4@x", "1@x"]


def test_an_unwritable_record_is_no_error(tmp_path):
    (tmp_path / "pwapply").write_text("a file where the directory should be")
    record.add(str(tmp_path), [applied("m@x", 1, "https://s", "p", 1)], [])
    assert record.load(str(tmp_path)).patches == {}


def test_a_record_written_by_an_earlier_version_still_loads(tmp_path):
    """Patchwork series by id, and the archive's series as id 0 with an ``archive``
    entry (pwapply before the keys): each gets its source's key."""
    path = tmp_path / "pwapply" / "applied.json"
    path.parent.mkdir()
    root = {"root": "cover.1@x", "name": "Fix it", "sender": "a@x", "date": "20260101"}
    path.write_text(
        json.dumps(
            {
                "patches": {
                    "p@x": {"series": 7, "server": "https://pw.example.org", "project": "qemu-devel", "version": 2},
                    "q@x": {"series": 0, "server": "https://lore.example.org/list", "version": 1, "archive": root},
                },
                "branches": {
                    "pw/a-v2": {
                        "server": "https://pw.example.org",
                        "project": "qemu-devel",
                        "series": [5, 7],
                        "version": 2,
                        "base": "b" * 40,
                        "tip": "c" * 40,
                    },
                    "pw/fix-it-v1": {
                        "server": "https://lore.example.org/list",
                        "project": "",
                        "series": [],
                        "version": 1,
                        "base": "b" * 40,
                        "tip": "d" * 40,
                        "archive": root,
                    },
                },
            }
        )
    )
    r = record.load(str(tmp_path))
    p, q = r.lookup("p@x"), r.lookup("q@x")
    assert p is not None and p.key == Key(PATCHWORK, "https://pw.example.org", "7") and p.series.version == 2
    assert q is not None and q.key == Key("archive", "https://lore.example.org/list", "cover.1@x")
    assert (q.series.name, q.series.sender, q.series.posted) == ("Fix it", "a@x", "20260101")
    a, b = r.branches["pw/a-v2"], r.branches["pw/fix-it-v1"]
    assert a.key.what == "7" and [k.what for k in a.chain] == ["5", "7"] and a.label == "series 7 v2"
    assert b.key.kind == "archive" and b.label == "v1 from the archive" and b.where == "https://lore.example.org/list"
    record.save(str(tmp_path), r)  # written back in this version's shape, read alike
    assert record.load(str(tmp_path)) == r


def test_a_kind_of_source_this_pwapply_does_not_know_is_a_clear_error():
    """A record written by a newer pwapply may name a source this one lacks."""
    with pytest.raises(InputError) as caught:
        open_source("patchew", "https://patchew.example.org", Connection(), None)
    assert caught.value.message == "no source of series of the kind 'patchew' (https://patchew.example.org)"
    assert caught.value.hint == "is the record of a newer pwapply?"
    assert caught.value.exit_code == 2
