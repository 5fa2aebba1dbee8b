"""The keys of series: which source holds one, where, and what in it; and a series as
the record keeps it.  Small and pure, for the record (read on every push by the pre-push
hook) to load without the rest of the model."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..frozen import frozen

PATCHWORK = "patchwork"
ARCHIVE = "archive"
MBOX = "mbox"


@frozen
class Key:
    """Which source holds a series (``kind``), where (a Patchwork server's URL, an inbox's
    base URL, a file's path) and what in it (a series id; the Message-ID of the series'
    first mail in its thread; nothing for a file)."""

    kind: str
    where: str
    what: str

    def json(self) -> Dict[str, str]:
        return {"kind": self.kind, "where": self.where, "what": self.what}

    @staticmethod
    def from_json(data: Any) -> Optional["Key"]:
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("kind", "where", "what")):
            return None
        return Key(data["kind"], data["where"], data["what"])

    @property
    def source(self) -> Tuple[str, str]:
        """(kind, where): the source a key is asked of."""
        return self.kind, self.where.rstrip("/")


@frozen
class Known:
    """A series as the record keeps it: its key and version, and what finds its later
    versions where only mail links them (its name, its sender, the day it was posted,
    YYYYMMDD)."""

    key: Key
    version: int
    name: str = ""
    sender: str = ""
    posted: str = ""
    label: str = ""  # how a branch made of it is told: "series 500889 v2", "v2 from the archive"


@frozen
class Want:
    """Which facts to ask for (each may cost a request a series)."""

    newer: bool = True
    states: bool = True
    tags: bool = True  # review tags and Nacked-by


# ------------------------------------------------------------------ earlier records


def earlier_known(server: str, series: Any, version: int, archive: Any) -> Known:
    """A series as a record of an earlier version named it: a Patchwork series id on its
    server; or, with an ``archive`` entry (and series id 0), the archive's base and its
    thread's first Message-ID."""
    if isinstance(archive, dict) and isinstance(archive.get("root"), str):
        return Known(
            Key(ARCHIVE, server.rstrip("/"), archive["root"]),
            version,
            str(archive.get("name", "")),
            str(archive.get("sender", "")),
            str(archive.get("date", "")),
            f"v{version} from the archive",
        )
    sid = int(series)
    return Known(Key(PATCHWORK, server.rstrip("/"), str(sid)), version, label=f"series {sid} v{version}")


def earlier_chain(series: Known, ids: List[int]) -> Tuple[List[Key], str]:
    """The chain and label of a branch an earlier version recorded (its series ids)."""
    if series.key.kind != PATCHWORK:
        return [series.key], series.label
    return [Key(PATCHWORK, series.key.where, str(i)) for i in ids], f"series {series.key.what} v{series.version}"
