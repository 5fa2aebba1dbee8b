import os
import threading

from pwapply.cache import MboxCache


def test_put_get_and_servers_are_apart(tmp_path):
    cache = MboxCache(str(tmp_path / "c"))
    assert cache.get("https://a", 1) is None
    cache.put("https://a", 1, b"mbox-a")
    cache.put("https://b", 1, b"mbox-b")
    assert cache.get("https://a", 1) == b"mbox-a"
    assert cache.get("https://a/", 1) == b"mbox-a"
    assert cache.get("https://b", 1) == b"mbox-b"


def test_default_root_is_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert MboxCache().root == str(tmp_path / "xdg" / "pwapply" / "mbox")


def test_size_is_bounded_least_recently_used_first(tmp_path):
    cache = MboxCache(str(tmp_path / "c"), limit=350)
    for i in range(1, 4):
        cache.put("s", i, bytes(100))
        os.utime(cache.path("s", i), (i, i))
    cache.get("s", 1)  # used now: the most recent
    cache.put("s", 4, bytes(100))
    assert cache.get("s", 1) is not None and cache.get("s", 4) is not None
    assert cache.get("s", 2) is None
    cache.put("s", 5, bytes(1000))  # larger than the whole cache: not kept
    assert cache.get("s", 5) is None


def test_concurrent_writers_never_leave_a_torn_file(tmp_path):
    cache = MboxCache(str(tmp_path / "c"))
    blobs = [bytes([i]) * 200_000 for i in range(8)]

    def write(blob):
        for _ in range(5):
            cache.put("s", 1, blob)

    threads = [threading.Thread(target=write, args=(b,)) for b in blobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.get("s", 1) in blobs
    assert os.listdir(os.path.dirname(cache.path("s", 1))) == ["1.mbox"]


def test_unwritable_cache_is_no_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = MboxCache(str(blocker / "c"))
    cache.put("s", 1, b"x")  # cannot create a directory under a file: ignored
    assert cache.get("s", 1) is None
