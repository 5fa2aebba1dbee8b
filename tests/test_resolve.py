import pytest

from pwapply.errors import InputError
from pwapply.resolve import COVER_ID, MBOX, MSGID, PATCH_ID, SERIES, STDIN, resolve

MSGID_ = "20260421202110.306051-1-peterx@redhat.com"
OZ = "https://patchwork.ozlabs.org"


@pytest.mark.parametrize(
    "text,kind,value,server,project",
    [
        ("500889", SERIES, "500889", None, None),
        (" 500889 ", SERIES, "500889", None, None),
        (f"{OZ}/project/qemu-devel/list/?series=500889", SERIES, "500889", OZ, "qemu-devel"),
        (f"{OZ}/project/qemu-devel/list/?series=500889&state=*", SERIES, "500889", OZ, "qemu-devel"),
        (f"{OZ}/api/series/500889/", SERIES, "500889", OZ, None),
        (f"{OZ}/api/1.3/series/500889/", SERIES, "500889", OZ, None),
        (f"{OZ}/api/1.3/series/500889/?format=api", SERIES, "500889", OZ, None),
        (f"{OZ}/series/500889/mbox/", SERIES, "500889", OZ, None),
        (f"{OZ}/project/qemu-devel/patch/{MSGID_}/", MSGID, MSGID_, OZ, "qemu-devel"),
        (f"{OZ}/project/qemu-devel/cover/{MSGID_}/", MSGID, MSGID_, OZ, "qemu-devel"),
        (f"{OZ}/project/qemu-devel/patch/{MSGID_.replace('@', '%40')}/mbox/", MSGID, MSGID_, OZ, "qemu-devel"),
        (f"{OZ}/patch/2225922/", PATCH_ID, "2225922", OZ, None),
        (f"{OZ}/cover/2225929/", COVER_ID, "2225929", OZ, None),
        (f"{OZ}/api/patches/2225922/", PATCH_ID, "2225922", OZ, None),
        ("https://example.org/patchwork/project/p/list/?series=7", SERIES, "7", "https://example.org/patchwork", "p"),
        ("http://127.0.0.1:8000/api/series/17/", SERIES, "17", "http://127.0.0.1:8000", None),
        (MSGID_, MSGID, MSGID_, None, None),
        (f"<{MSGID_}>", MSGID, MSGID_, None, None),
        (f"id:{MSGID_}", MSGID, MSGID_, None, None),
        (f"https://lore.kernel.org/qemu-devel/{MSGID_}/", MSGID, MSGID_, None, None),
        (f"https://lore.kernel.org/qemu-devel/{MSGID_}/T/#u", MSGID, MSGID_, None, None),
        (f"https://lore.kernel.org/r/{MSGID_}", MSGID, MSGID_, None, None),
        (f"https://patch.msgid.link/{MSGID_}", MSGID, MSGID_, None, None),
        ("-", STDIN, "-", None, None),
        ("./v2.mbox", MBOX, "./v2.mbox", None, None),
        ("series.patch", MBOX, "series.patch", None, None),
    ],
)
def test_forms(text, kind, value, server, project):
    ref = resolve(text)
    assert (ref.kind, ref.value, ref.server, ref.project) == (kind, value, server, project)


def test_cover_hint_from_url():
    assert resolve(f"{OZ}/project/q/cover/{MSGID_}/").cover_hint is True
    assert resolve(f"{OZ}/project/q/patch/{MSGID_}/").cover_hint is False


def test_existing_file_wins_over_msgid_shape():
    assert resolve("a@b", is_file=lambda p: p == "a@b").kind == MBOX
    assert resolve("a@b", is_file=lambda p: False).kind == MSGID


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "a b",
        "http://example.org/",
        f"{OZ}/project/qemu-devel/",
        f"{OZ}/project/qemu-devel/list/",
        "ftp://x/series/1/",
        "https://lore.kernel.org/qemu-devel/",
        "http://[::1",
        "x\ny@z",
        "<a@b",
        "a@b@c",
        f"{OZ}/api/series/abc/",
    ],
)
def test_rejected(text):
    with pytest.raises(InputError) as exc:
        resolve(text)
    assert exc.value.hint
