"""thread.py: a thread of mail in, the series a maintainer would pick out of it."""

from __future__ import annotations

from typing import Optional

import pytest

from pwapply import thread
from pwapply.errors import InputError, NotFoundError
from pwapply.resolve import MSGID, resolve

DIFF = "---\n f | 1 +\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n a\n+{n}\n"


def mail(
    msgid: str, subject: str, body: str = "", to: Optional[str] = None, date: int = 1, frm: str = "A U Thor <a@x>"
) -> str:
    head = f"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: {frm}\nSubject: {subject}\n"
    head += f"Date: Tue, {date:02d} Nov 2023 10:00:00 +0000\nMessage-ID: <{msgid}>\n"
    if to:
        head += f"In-Reply-To: <{to}>\nReferences: <{to}>\n"
    return head + "\n" + body.rstrip("\n") + "\n\n"


def patch(msgid: str, n: int, m: int, v: int = 1, to: Optional[str] = None, date: int = 1) -> str:
    prefix = f"PATCH v{v}" if v > 1 else "PATCH"
    return mail(
        msgid, f"[{prefix} {n}/{m}] change {n}", f"Change {n}.\n\nSigned-off-by: A <a@x>\n" + DIFF.format(n=n), to, date
    )


def cover(msgid: str, m: int, v: int = 1, to: Optional[str] = None) -> str:
    prefix = f"PATCH v{v}" if v > 1 else "PATCH"
    return mail(msgid, f"[{prefix} 0/{m}] Do things", "Cover text.", to)


def pick(*mails: str, named: str) -> thread.ThreadSeries:
    return thread.pick(thread.read("".join(mails).encode()), named, "https://inbox.example.org/list")


SERIES = [cover("c1", 3), patch("p1", 1, 3, to="c1"), patch("p3", 3, 3, to="c1"), patch("p2", 2, 3, to="c1")]


@pytest.mark.parametrize("named", ["c1", "p1", "p2", "p3"])
def test_any_mail_of_the_series_names_it_all_in_order(named):
    ts = pick(*SERIES, named=named)
    assert [p.msgid for p in ts.patches] == ["p1", "p2", "p3"]
    assert [p.number for p in ts.patches] == [1, 2, 3] and [p.index for p in ts.patches] == [1, 2, 3]
    assert ts.cover is not None and ts.root == "c1" and ts.name == "Do things" and ts.missing == ()


def test_a_reply_names_the_series_and_gives_its_patch_its_tags():
    r1 = mail("r1", "Re: [PATCH 2/3] change 2", "> Acked-by: Quoted <q@x>\nReviewed-by: R <r@x>", "p2")
    r2 = mail("r2", "Re: [PATCH 2/3] change 2", "Tested-by: T <t@x>\nReviewed-by: R <r@x>", "r1")  # a reply to a reply
    r3 = mail("r3", "Re: [PATCH 0/3] Do things", "Acked-by: M <m@x>", "c1")
    ts = pick(*SERIES, r1, r2, r3, named="r2")
    assert [f"{t.key}: {t.value}" for t in ts.patch_tags["p2"]] == ["Reviewed-by: R <r@x>", "Tested-by: T <t@x>"]
    assert [f"{t.key}: {t.value}" for t in ts.cover_tags] == ["Acked-by: M <m@x>"]
    assert "p1" not in ts.patch_tags


def test_a_reviewers_diff_in_a_reply_is_no_patch():
    suggestion = mail("s1", "Re: [PATCH 2/3] change 2", "Like this?\n" + DIFF.format(n=9), "p2")
    ts = pick(*SERIES, suggestion, named="p2")
    assert [p.msgid for p in ts.patches] == ["p1", "p2", "p3"]


def test_v2_in_reply_to_v1_versions_never_mixed_the_newer_named():
    v2 = [cover("c2", 2, v=2, to="c1"), patch("q1", 1, 2, v=2, to="c2"), patch("q2", 2, 2, v=2, to="c2")]
    ts = pick(*SERIES, *v2, named="p1")
    assert [p.msgid for p in ts.patches] == ["p1", "p2", "p3"] and ts.version == 1
    assert ts.newer == (2, "c2")
    ts = pick(*SERIES, *v2, named="q2")
    assert [p.msgid for p in ts.patches] == ["q1", "q2"] and ts.version == 2 and ts.newer is None


def test_a_patch_sent_again_within_the_version_the_newest():
    again = patch("p2b", 2, 3, to="c1", date=5)
    ts = pick(*SERIES, again, named="c1")
    assert [p.msgid for p in ts.patches] == ["p1", "p2b", "p3"]


def test_missing_patches_are_named():
    ts = pick(SERIES[0], SERIES[1], SERIES[2], named="c1")
    assert ts.missing == (2,) and ts.total == 3


def test_without_a_cover_letter_the_first_patch_is_the_root():
    ts = pick(patch("p1", 1, 2), patch("p2", 2, 2, to="p1"), named="p2")
    assert [p.msgid for p in ts.patches] == ["p1", "p2"] and ts.cover is None and ts.root == "p1"


def test_a_nack_is_kept_apart():
    nack = mail("n1", "Re: [PATCH 1/3] change 1", "Nacked-by: G <g@x>", "p1")
    ts = pick(*SERIES, nack, named="c1")
    assert [(about, f"{t.key}: {t.value}") for about, t in ts.nacks] == [("p1", "Nacked-by: G <g@x>")]
    assert "p1" not in ts.patch_tags


def test_a_loop_of_replies_ends():
    a = mail("a", "Re: x", "Reviewed-by: R <r@x>", "b")
    b = mail("b", "Re: x", "", "a")
    with pytest.raises(InputError, match="holds no patch"):
        pick(a, b, named="a")


def test_a_message_id_not_in_the_thread():
    with pytest.raises(NotFoundError):
        pick(*SERIES, named="elsewhere")


def test_mboxrd_from_lines_are_unquoted_once():
    body = "Change.\n\n>From the start\n>>From quoted\n" + DIFF.format(n=1)
    ts = pick(mail("p1", "[PATCH] change", body), named="p1")
    raw = ts.patches[0].raw
    assert b"\nFrom the start\n" in raw and b"\n>From quoted\n" in raw


@pytest.mark.parametrize(
    "url,archive",
    [
        ("https://inbox.example.org/qemu/a@b/", "https://inbox.example.org/qemu"),
        ("https://inbox.example.org/qemu/a@b/T/#u", "https://inbox.example.org/qemu"),
        ("http://127.0.0.1:8080/lists/u-boot/a@b/t.mbox.gz", "http://127.0.0.1:8080/lists/u-boot"),
        ("https://inbox.example.org/qemu/a@b/raw", "https://inbox.example.org/qemu"),
        ("https://lore.kernel.org/qemu-devel/a@b/", "https://lore.kernel.org/qemu-devel"),
        ("https://lore.kernel.org/r/a@b", "https://lore.kernel.org/all"),
        ("https://lore.kernel.org/all/a@b/", "https://lore.kernel.org/all"),
    ],
)
def test_an_archive_url_names_its_archive(url, archive):
    ref = resolve(url)
    assert (ref.kind, ref.value, ref.archive) == (MSGID, "a@b", archive)


@pytest.mark.parametrize(
    "url", ["https://inbox.example.org/a@b/", "https://inbox.example.org/qemu/a@b/x/y", "https://x.org/qemu/"]
)
def test_what_is_not_an_archive_url(url):
    with pytest.raises(InputError):
        resolve(url)


# The shapes real mail on the io_uring list has (issue 28), each on its own.


def test_an_indented_tag_in_a_reply_is_taken():
    """Gmail's plain-text part of an HTML reply: ' Reviewed-by: ...'."""
    r1 = mail("r1", "Re: [PATCH 2/3] change 2", "Nice.\n\n Reviewed-by: R <r@x.org>\n\n> Acked-by: Q <q@x.org>", "p2")
    ts = pick(*SERIES, r1, named="c1")
    assert [t.line() for t in ts.patch_tags["p2"]] == ["Reviewed-by: R <r@x.org>"]


@pytest.mark.parametrize("named", ["c1", "p2", "a1"])
def test_a_reply_to_the_cover_that_kept_its_subject_gives_every_patch_its_tag(named):
    """In-Reply-To the cover letter, no diff, the subject '[PATCH 0/3] Do things'
    without 'Re:': a reply, not a second cover letter."""
    ack = mail("a1", "[PATCH 0/3] Do things", "On Tue ... wrote:\n> Cover text.\n\nAcked-by: M <m@x.org>", "c1")
    ts = pick(*SERIES, ack, named=named)
    assert ts.cover is not None and ts.cover.msgid == "c1" and ts.root == "c1"
    assert [p.msgid for p in ts.patches] == ["p1", "p2", "p3"]
    assert [t.line() for t in ts.cover_tags] == ["Acked-by: M <m@x.org>"]


def test_a_cover_letter_of_v2_in_reply_to_v1s_is_still_a_cover_letter():
    v2 = [cover("c2", 3, v=2, to="c1"), patch("q1", 1, 3, v=2, to="c2")]
    ts = pick(*SERIES, *v2, named="q1")
    assert ts.cover is not None and ts.cover.msgid == "c2" and ts.version == 2


def test_a_tag_with_a_malformed_address_is_told_never_taken():
    """'Reviewed-by: Name <name.example.com>' (a typo for '@') would stay in history for
    good: left out, and named with its reply and sender."""
    bad = mail(
        "r9",
        "Re: [PATCH 1/3] change 1",
        "Reviewed-by: Name <name.example.com>\nTested-by: T <t@x.org>",
        "p1",
        frm="Name <name@example.com>",
    )
    ts = pick(*SERIES, bad, named="c1")
    assert [t.line() for t in ts.patch_tags["p1"]] == ["Tested-by: T <t@x.org>"]
    assert ts.malformed == (("r9", "Name <name@example.com>", "Reviewed-by: Name <name.example.com>"),)


def test_patches_whose_cover_letter_the_archive_never_got_are_all_taken():
    """The cover letter never reached the list: each patch answers a mail the thread
    lacks (liburing's 'Add uring_ptr_to_u64() helper', v2, six patches)."""
    lost = [patch("q1", 1, 3, v=2, to="lost"), patch("q2", 2, 3, v=2, to="lost"), patch("q3", 3, 3, v=2, to="lost")]
    for named in ("q1", "q3"):
        ts = pick(*lost, named=named)
        assert [p.msgid for p in ts.patches] == ["q1", "q2", "q3"] and ts.missing == ()


def test_a_follow_up_patch_deep_in_the_thread_is_another_series_not_a_resend():
    """A second [PATCH] with a title of its own, posted later in reply to the discussion
    of the first: naming the first applies the first."""
    first = mail("a1", "[PATCH] Delete syscall.c", "A.\n" + DIFF.format(n=1))
    review = mail("r1", "Re: [PATCH] Delete syscall.c", "What about the rename?", "a1")
    follow = mail("b1", "[PATCH] Rename the syscall helpers", "B.\n" + DIFF.format(n=2), "r1", date=3)
    assert [p.msgid for p in pick(first, review, follow, named="a1").patches] == ["a1"]
    assert [p.msgid for p in pick(first, review, follow, named="b1").patches] == ["b1"]
