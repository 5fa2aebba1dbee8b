"""`pwapply versions`: every version of a series, whatever its source (sources/policy.py
says which is asked: Patchwork's versions, and the archive's it does not have)."""

from __future__ import annotations

from .errors import InputError
from .resolve import SeriesRef
from .sources.policy import Sources, Versions


def list_versions(ref: SeriesRef, sources: Sources) -> Versions:
    """Every version of the series ``ref`` names."""
    need_server(ref)
    return sources.versions(ref)


def need_server(ref: SeriesRef) -> None:
    if ref.offline:
        raise InputError(
            "versions of a series are found on a Patchwork server, not in an mbox",
            "give a series id, Message-ID or Patchwork URL",
        )
