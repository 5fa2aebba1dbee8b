"""Trailer handling, with git interpret-trailers as the oracle where it has an opinion."""

import subprocess

import pytest

from pwapply import trailers
from pwapply.trailers import Trailer

LINK = Trailer("Link", "https://example.org/p/1")

CASES = [
    "Subject\n",
    "Subject\n\nBody text.\n",
    "Subject\n\nBody text.\n\nSigned-off-by: A <a@x>\n",
    "Subject\n\nSigned-off-by: A <a@x>\n",
    "Subject\n\nBody.\n\nReviewed-by: R <r@x>\nSigned-off-by: A <a@x>\n",
    'Subject\n\nBody.\n\nFixes: 1234 ("x")\nCc: qemu-stable@nongnu.org\n',
    "Subject\n\nBody.\n\nNot a trailer line\nSigned-off-by: A <a@x>\n",
    "Subject\n\nBody.\n\nthree\nfree\nlines\nnone trailers\nSigned-off-by: A <a@x>\n",
    "Subject\n\nBody.\n\nSigned-off-by: A <a@x>\n  continued value\n",
    "Subject: with colon\n",
    "Subject\n\nBody.\n\nSigned-off-by: A <a@x>\n\n\n",
    "Subject\n\nBody.\nSigned-off-by: A <a@x>\n",
]


def git_add(message: str, trailer: Trailer) -> str:
    proc = subprocess.run(
        [
            "git",
            "-c",
            "trailer.ifexists=addIfDifferent",
            "interpret-trailers",
            "--no-divider",
            "--trailer",
            trailer.line(),
        ],
        input=message.encode(),
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode()


@pytest.mark.parametrize("message", CASES)
def test_add_places_the_trailer_where_git_does(message):
    ours = trailers.add(message, [LINK])
    theirs = git_add(message, LINK)
    assert ours.rstrip("\n") == theirs.rstrip("\n")


@pytest.mark.parametrize("message", CASES)
def test_add_is_idempotent_and_keeps_every_line(message):
    once = trailers.add(message, [LINK, Trailer("Tested-by", "T <t@x>")])
    assert trailers.add(once, [LINK, Trailer("Tested-by", "T <t@x>")]) == once
    kept = [line for line in once.splitlines()]
    for line in message.splitlines():
        assert line in kept


def test_duplicates_are_skipped_case_and_space_insensitively():
    msg = "S\n\nBody\n\nreviewed-by:   R  <r@x>\n"
    assert trailers.add(msg, [Trailer("Reviewed-by", "R <r@x>")]) == msg


def test_order_is_kept():
    msg = "S\n\nBody\n\nSigned-off-by: A <a@x>\n"
    out = trailers.add(msg, [Trailer("Tested-by", "T <t@x>"), LINK, Trailer("Signed-off-by", "M <m@x>")])
    assert out.splitlines()[-4:] == [
        "Signed-off-by: A <a@x>",
        "Tested-by: T <t@x>",
        f"Link: {LINK.value}",
        "Signed-off-by: M <m@x>",
    ]


def test_clean_value_cannot_inject_lines():
    t = trailers.make_trailer("Link", "https://x/\nSigned-off-by: Mallory <m@evil>\r\x00")
    assert "\n" not in t.line() and "\r" not in t.line()
    with pytest.raises(ValueError):
        trailers.make_trailer("Bad Key", "x")
    with pytest.raises(ValueError):
        trailers.make_trailer("Link", "\n\n")


def test_tags_from_reply_skips_quotes_and_unknown_tags():
    body = (
        "> Reviewed-by: Quoted <q@x>\nReviewed-by: R <r@x>\n\n>> Acked-by: Deeper <d@x>\n"
        "tested-by:T <t@x>\nSigned-off-by: S <s@x>\nReviewed-by: R <r@x>\n"
    )
    assert trailers.tags_from_reply(body) == [Trailer("Reviewed-by", "R <r@x>"), Trailer("Tested-by", "T <t@x>")]


def test_an_indented_tag_line_of_a_reply_is_a_tag():
    """Gmail's plain-text part of an HTML mail puts a blank before the line (real mail
    on the io_uring list); a tab does too.  A patch's own indented line is its message's."""
    body = "Looks good.\n\n Reviewed-by: Pavel Begunkov <asml.silence@gmail.com>\n\tAcked-by: A <a@x.org>\n"
    assert trailers.tags_from_reply(body) == [
        Trailer("Reviewed-by", "Pavel Begunkov <asml.silence@gmail.com>"),
        Trailer("Acked-by", "A <a@x.org>"),
    ]
    assert trailers.tags_in_patch("Revert x\n\n    Reviewed-by: Old <o@x.org>\n") == []


@pytest.mark.parametrize(
    "value,ok",
    [
        ("Jens Axboe <axboe@kernel.dk>", True),
        ("axboe@kernel.dk", True),
        ("Name <a.b+c@sub.example.co.uk> # for the tests", True),
        ("Name <r@localhost>", True),
        ("Name <name.example.com>", False),  # the typo of real mail: '.' for '@'
        ("Name", False),
        ("Name <a@b@c.org>", False),
        ("Name <a b@c.org>", False),
        ("Name <a@c.org> <b@c.org>", False),
        ("Name <@c.org>", False),
        ("Name <a@-c.org>", False),
    ],
)
def test_a_tag_names_its_person_by_a_valid_address(value, ok):
    assert trailers.has_address(value) is ok
    said = trailers.read_reply(f"Reviewed-by: {value}\n")
    assert (said.tags, said.malformed) == (
        ((Trailer("Reviewed-by", value),), ()) if ok else ((), (f"Reviewed-by: {value}",))
    )


@pytest.mark.parametrize(
    "template,expected",
    [
        ("https://lore.kernel.org/qemu-devel/%s", "Link: https://lore.kernel.org/qemu-devel/m@x"),
        ("https://lore.kernel.org/{project}/{msgid}", "Link: https://lore.kernel.org/qemu-devel/m@x"),
        ("{url}", "Link: https://pw/p/m@x/"),
        ("Message-ID: <%s>", "Message-ID: <m@x>"),
        ("Message-Id: <{msgid}>", "Message-Id: <m@x>"),
    ],
)
def test_link_templates(template, expected):
    t = trailers.link_trailer(template, msgid="m@x", url="https://pw/p/m@x/", project="qemu-devel")
    assert t is not None and t.line() == expected


def test_bad_link_template():
    with pytest.raises(ValueError):
        trailers.link_trailer("{nope}", msgid="m@x", url="", project="")


def test_add_before_puts_new_tags_before_the_link():
    msg = (
        "Subject\n\nBody.\n\nSigned-off-by: A <a@x>\nReviewed-by: R <r@x>\n"
        "Link: https://pw/patch/1/\nSigned-off-by: M <m@x>\n"
    )
    new = [trailers.Trailer("Tested-by", "T <t@x>"), trailers.Trailer("Reviewed-by", "R <r@x>")]
    out = trailers.add_before(msg, new, lambda t: t.key.lower() == "link")
    assert out.splitlines()[5:] == [
        "Reviewed-by: R <r@x>",
        "Tested-by: T <t@x>",
        "Link: https://pw/patch/1/",
        "Signed-off-by: M <m@x>",
    ]
    assert trailers.add_before(out, new, lambda t: t.key.lower() == "link") == out  # never twice
    no_link = "Subject\n\nSigned-off-by: A <a@x>\n"
    assert (
        trailers.add_before(no_link, new[:1], lambda t: t.key.lower() == "link").splitlines()[-1]
        == "Tested-by: T <t@x>"
    )
