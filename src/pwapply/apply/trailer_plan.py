"""What each commit of a series gets added, in DESIGN.md's order: review tags from
replies (to the patch, for a local mbox; to the cover letter), the Link trailer, the
committer's sign-off.  Made once the patches have applied (the cover letter's replies may
arrive meanwhile); pure from then on: trailers.add() skips what a commit already has."""

from __future__ import annotations

from typing import List, Mapping, Optional, Tuple

from .. import trailers
from ..errors import ConfigError
from ..frozen import frozen
from ..mbox import Patch
from ..resolve import is_msgid
from ..sources.model import Series
from ..trailers import Trailer
from .options import Plan

# Where a Link points when nothing better is known (b4's default, lore's msgid redirector).
FALLBACK_LINK = "https://lore.kernel.org/r/%s"


@frozen
class TrailerPlan:
    link: bool
    link_format: Optional[str]
    server: Optional[str]
    project: str
    web_urls: Mapping[str, str]  # msgid -> the patch's page
    patch_tags: Mapping[str, Tuple[Trailer, ...]]  # msgid -> tags from replies to it
    cover_tags: Tuple[Trailer, ...]  # tags from replies to the cover letter: for every patch
    signoff: Optional[Trailer]

    def for_patch(self, patch: Patch) -> List[Trailer]:
        new: List[Trailer] = list(self.patch_tags.get(patch.msgid, ()))
        new.extend(self.cover_tags)
        link = self.link_for(patch)
        if link:
            new.append(link)
        if self.signoff:
            new.append(self.signoff)
        return new

    def link_for(self, patch: Patch) -> Optional[Trailer]:
        if not self.link or not is_msgid(patch.msgid):
            return None
        url = self.web_urls.get(patch.msgid, "")
        if not url and self.server and self.project:
            url = f"{self.server}/project/{self.project}/patch/{patch.msgid}/"
        try:
            if self.link_format:
                return trailers.link_trailer(self.link_format, msgid=patch.msgid, url=url, project=self.project)
            if url:
                return trailers.make_trailer("Link", url)
            return trailers.link_trailer(FALLBACK_LINK, msgid=patch.msgid, url=url, project=self.project)
        except ValueError as exc:
            raise ConfigError(str(exc), "fields: {msgid} {url} {project}; %s is the Message-ID") from None


@frozen
class Edit:
    """The message edit of the commits git am made, in order: each gets what its own
    series' plan gives its patch."""

    entries: Tuple[Tuple[Patch, TrailerPlan], ...]

    def __call__(self, i: int, message: str) -> str:
        if i > len(self.entries):  # git am made more commits than patches (an am option of the user's)
            return message
        patch, plan = self.entries[i - 1]
        return trailers.add(message, plan.for_patch(patch))


def trailer_plan(plan: Plan, source: Series, signoff: Optional[str]) -> TrailerPlan:
    """The trailers for ``source``'s patches; waits for the cover letter's replies (and
    for what another source adds: the archive's tags, its thread asked while git am ran).
    ``signoff`` is the committer's identity, with --signoff."""
    source = source.completed()
    return TrailerPlan(
        link=plan.link,
        link_format=plan.link_format,
        server=plan.server,
        project=source.project or plan.project or "",
        web_urls=source.web_urls,
        patch_tags=source.patch_tags,
        cover_tags=source.cover_tags(),
        signoff=trailers.make_trailer("Signed-off-by", signoff) if signoff else None,
    )
