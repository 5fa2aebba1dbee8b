import pytest

from pwapply import mbox
from pwapply.errors import InputError


def mail(subject, body, msgid, extra=""):
    return (
        f"From abc Mon Sep 17 00:00:00 2001\nFrom: A <a@x>\nSubject: {subject}\nMessage-ID: <{msgid}>\n{extra}\n{body}"
    ).encode()


DIFF = "---\n f | 1 +\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n"


def test_split_and_read_in_patch_order():
    data = (
        mail("[PATCH v2 2/2] two", "Two.\n" + DIFF, "2@x")
        + b"\n"
        + mail("[PATCH v2 0/2] cover", "Cover.\n", "0@x")
        + b"\n"
        + mail("[PATCH v2 1/2] one", "One.\n" + DIFF, "1@x")
        + b"\n"
        + mail("Re: [PATCH v2 1/2] one", "Reviewed-by: R <r@x>\n", "r@x", "In-Reply-To: <1@x>\n")
    )
    parsed = mbox.read(data)
    assert [p.msgid for p in parsed.patches] == ["1@x", "2@x"]
    assert [p.number for p in parsed.patches] == [1, 2]
    assert parsed.cover is not None and parsed.cover.msgid == "0@x"
    assert [m.in_reply_to for m in parsed.others] == ["1@x"]
    assert parsed.patches[0].title == "one"


def test_crlf_and_folded_encoded_subject():
    raw = (
        "From x Mon Sep 17 00:00:00 2001\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n very long\r\n"
        "Message-ID: <c@x>\r\n\r\nBody\r\n" + DIFF.replace("\n", "\r\n")
    ).encode()
    parsed = mbox.read(raw)
    assert parsed.patches[0].subject == "Café very long"
    assert b"\r\n" not in parsed.patches[0].raw


def test_raw_utf8_header_and_quoted_printable_body():
    raw = (
        "From x Mon Sep 17 00:00:00 2001\nSubject: [PATCH] Rafał\nMessage-ID: <q@x>\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        "Body=\n continues\n---\ndi=\nff --git a/f=3Dx b/f=3Dx\n--- a/f=3Dx\n+++ b/f=3Dx\n@@ -1 +1 @@\n-a\n+b\n"
    ).encode()
    parsed = mbox.read(raw)
    # Only the decoded body has a `diff --git` line (a soft line break splits it).
    assert len(parsed.patches) == 1 and parsed.patches[0].prefixed
    assert parsed.patches[0].subject == "[PATCH] Rafał"


def test_pull_request_has_no_patch():
    parsed = mbox.read(mail("[GIT PULL] x", "Please pull git://x/y\n", "p@x"))
    assert parsed.patches == ()


def test_join_adds_from_lines():
    p = mbox.read(mail("[PATCH] one", "One.\n" + DIFF, "1@x")).patches
    assert mbox.join(p).startswith(b"From ")


@pytest.mark.parametrize(
    "spec,total,expected",
    [
        ("1-3,5", 6, [1, 2, 3, 5]),
        ("2", 3, [2]),
        ("3,1,1", 3, [1, 3]),
        ("2-", 4, [2, 3, 4]),
    ],
)
def test_ranges(spec, total, expected):
    assert mbox.parse_range(spec, total) == expected


@pytest.mark.parametrize("spec", ["0", "4", "2-1", "x", "1-9", ",", "1..2"])
def test_bad_ranges(spec):
    with pytest.raises(InputError):
        mbox.parse_range(spec, 3)


def test_add_trailers_to_plain_mail():
    from pwapply.trailers import Trailer

    raw = mail(
        "[PATCH] one",
        "One.\n\nSigned-off-by: A <a@x>\n" + DIFF,
        "1@x",
        'Content-Type: text/plain; charset="us-ascii"\nContent-Transfer-Encoding: 7bit\n',
    )
    out = mbox.add_trailers_to_mail(raw, [Trailer("Tested-by", "Cédric <c@x>")])
    assert out is not None
    text = out.decode()
    assert "Signed-off-by: A <a@x>\nTested-by: Cédric <c@x>\n---\n" in text
    assert "Content-Transfer-Encoding: 8bit" in text and "charset=utf-8" in text
    b64 = mail("[PATCH] one", "T25lLgo=\n", "1@x", "Content-Transfer-Encoding: base64\n")
    assert mbox.add_trailers_to_mail(b64, [Trailer("Tested-by", "T <t@x>")]) is None


def test_base_commit():
    assert (
        mbox.base_commit("x\nbase-commit: 1d5c43618bb3c9df1265d19d2f4cf4775b28c6e3\n")
        == "1d5c43618bb3c9df1265d19d2f4cf4775b28c6e3"
    )


def test_unknown_charsets_are_named_for_their_bytes():
    utf8 = 'Subject: x\nContent-Type: text/plain; charset="none"\n\ncaf\u00e9\n'.encode()
    assert b'charset="utf-8"' in mbox.known_charsets(utf8)
    latin = b"Subject: x\nContent-Type: text/plain;\n charset=unknown-8bit\n\ncaf\xe9\n"
    assert b"charset=iso-8859-1" in mbox.known_charsets(latin)
    fine = b'Subject: x\nContent-Type: text/plain; charset="ISO-8859-15"\n\ncaf\xe9\n'
    assert mbox.known_charsets(fine) == fine
    word = b"From: =?unknown-8bit?q?Rafa=C5=82?= <r@example.org>\nSubject: =?x-unknown?b?w6k=?=\n\nbody =?none?q?x?=\n"
    fixed = mbox.known_charsets(word)
    assert fixed.startswith(b"From: =?utf-8?q?Rafa=C5=82?= <r@example.org>\nSubject: =?utf-8?b?w6k=?=\n")
    assert fixed.endswith(b"body =?none?q?x?=\n")  # the body is the patch's business
    assert mbox.parse(word).headers["from"] == "Rafa\u0142 <r@example.org>"


def test_unprefixed_diffs():
    assert not mbox.unprefixed("diff --git a/src/x.c b/src/x.c\n--- a/src/x.c\n")
    assert mbox.unprefixed("diff --git src/x.c src/x.c\n--- src/x.c\n")
    assert mbox.unprefixed("diff --git a/x.c a/x.c\n")  # a file under a/, no prefixes
    assert not mbox.unprefixed("diff --git x.c x.c\ndiff --git a/y.c b/y.c\n")  # mixed: -p1 as usual
    assert mbox.unprefixed('diff --git "sp ace.c" "sp ace.c"\n')
    assert not mbox.unprefixed("no diff here\n")
