import subprocess

import pytest

from pwapply import naming


@pytest.mark.parametrize(
    "name,expected",
    [
        (
            "migration/vfio: Fix a few issues on API misuse or statistic reports",
            "migration-vfio-fix-a-few-issues-on-api-misuse-or",
        ),
        ("[1/2] test: Add some lorem ipsum", "test-add-some-lorem-ipsum"),
        (
            "[PATCH v2 03/16] migration: Fix low possibility downtime violation",
            "migration-fix-low-possibility-downtime-violation",
        ),
        ("MAINTAINERS: Update entry for Rafał Miłecki", "maintainers-update-entry-for-rafa-miecki"),
        ("Re: [RFC PATCH] x", "x"),
    ],
)
def test_slug(name, expected):
    slug = naming.series_slug(name, None, 1)
    assert slug == expected
    assert len(slug) <= naming.SLUG_MAX


def test_slug_fallbacks():
    assert naming.series_slug(None, "[PATCH] foo: bar", 3) == "foo-bar"
    assert naming.series_slug(None, None, 3) == "series-3"
    assert naming.series_slug("!!!", "???", 9) == "series-9"
    # A cover letter sent as git format-patch left it names nothing.
    assert naming.series_slug("*** SUBJECT HERE ***", "[PATCH 1/2] io: fix it", 5) == "io-fix-it"
    assert naming.series_slug("[PATCH v2 0/2] *** SUBJECT HERE ***", None, 5) == "series-5"


def test_one_huge_word_is_cut():
    assert naming.slugify("a" * 200) == "a" * 50


def test_subject_numbers_and_versions():
    assert naming.number_from_subject("[PATCH v2 03/16] x") == (3, 16)
    assert naming.number_from_subject("[v2,1/6] x") == (1, 6)
    assert naming.number_from_subject("[PATCH] x 1/2") is None
    assert naming.version_from_subject("[PATCH v12 0/3] x") == 12
    assert naming.version_from_subject("[PATCH] v2 of x") is None


def test_branch_format_fields():
    fields = {"id": 500889, "version": 2, "slug": "fix-it", "project": "qemu-devel", "submitter": "Peter Xu"}
    assert naming.branch_name(naming.DEFAULT_BRANCH_FORMAT, fields) == "pw/fix-it-v2"
    assert naming.branch_name("{submitter}/{project}/{id}", fields) == "peter-xu/qemu-devel/500889"
    with pytest.raises(ValueError):
        naming.branch_name("{nope}", fields)


@pytest.mark.parametrize(
    "name",
    [
        "pw/ok-v1",
        "a..b",
        "a b",
        "a~b",
        "-x",
        "x.lock",
        "a//b",
        "a/.b",
        "x/",
        "@",
        "a@{b",
        "a:b",
        "a\x01b",
        "ok.",
        "é/ü",
    ],
)
def test_ref_rules_agree_with_git(name):
    ours = naming.check_ref_format(name) is None
    theirs = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True).returncode == 0
    # We never accept what git refuses; git is asked again before a ref is written.
    assert not (ours and not theirs), name
    if name in ("pw/ok-v1", "é/ü"):
        assert ours and theirs
