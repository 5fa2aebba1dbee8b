"""`pwapply demo`: the main job end to end, offline, in a scratch directory.

It builds a small project, posts two versions of a series to a Patchwork-shaped server
on loopback (pwapply.testing), applies v1 and v2 with pwapply, shows their range-diff,
installs the pre-push hook and tries to push the superseded v1; then, a tag given on
the list after the push, shows the branch's life: status, update, accept --dry-run.  Everything stays in one
directory, printed at the end; nothing outside it is touched.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .errors import InputError
from .git.run import Git, program
from .testing import FakePatchwork

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Max Maintainer",
    "GIT_COMMITTER_EMAIL": "max@example.org",
}

V1 = [
    ("src/parse.c", "    return -1;\n", "    return -EINVAL;\n", "parse: Return -EINVAL on bad input"),
    ("src/io.c", "    close(fd);\n", "    if (fd >= 0) {\n        close(fd);\n    }\n", "io: Do not close a bad fd"),
    ("docs/usage.txt", "Run it.\n", "Run it with --verbose to see more.\n", "docs: Mention --verbose"),
]
V2 = [
    V1[0],
    (
        "src/io.c",
        "    close(fd);\n",
        "    if (fd >= 0) {\n        close(fd);\n        fd = -1;\n    }\n",
        "io: Do not close a bad fd",
    ),
    V1[2],
    ("src/main.c", "int verbose;\n", "int verbose = 0;\n", "main: Initialise verbose"),
]


def run(echo: Callable[[str], None], keep: Optional[str] = None) -> int:
    if keep is not None and os.path.lexists(keep) and not (os.path.isdir(keep) and not os.listdir(keep)):
        what = "a directory that is not empty" if os.path.isdir(keep) else "not a directory"
        raise InputError(
            f"--dir {keep}: {what} (the demo builds its project there)",
            "give a new or empty directory, e.g. pwapply demo --dir /tmp/pwdemo2, or none for a temporary one",
        )
    root = keep or tempfile.mkdtemp(prefix="pwapply-demo-")
    os.makedirs(root, exist_ok=True)
    env = dict(os.environ, **IDENTITY)
    env.update(XDG_CACHE_HOME=os.path.join(root, "cache"), GIT_CONFIG_NOSYSTEM="1", NO_PROXY="*")
    for name in ("PWAPPLY_SERVER", "PWAPPLY_PROJECT", "PWAPPLY_TOKEN", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(name, None)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    repo = os.path.join(root, "project")
    remote = os.path.join(root, "remote.git")

    def git(*args: str, cwd: str = repo) -> str:
        return Git(cwd=cwd).run(args, env=env).stdout.decode()

    def show(title: str, argv: Sequence[str]) -> int:
        echo("")
        echo(f"$ {' '.join(argv)}        # {title}")
        return program([sys.executable, "-m", "pwapply", *argv[1:]], cwd=repo, env=env, one_stream=True)

    echo(f"pwapply demo in {root}")
    _make_project(repo, git)
    git("init", "-q", "--bare", remote, cwd=root)
    git("remote", "add", "origin", remote)
    git("push", "-q", "origin", "HEAD:refs/heads/main")
    git("fetch", "-q", "origin")
    git("branch", "-q", "--set-upstream-to=origin/main")
    base = git("rev-parse", "HEAD").strip()
    v1_mbox = _series(repo, git, V1, 1, base)
    v2_mbox = _series(repo, git, V2, 2, base)
    with FakePatchwork() as pw:
        me = (IDENTITY["GIT_AUTHOR_NAME"], IDENTITY["GIT_AUTHOR_EMAIL"])
        posted = [(datetime.now(timezone.utc) - timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%S") for d in (9, 2)]
        v1 = pw.add_series("demo", v1_mbox, date=posted[0], submitter=me)
        pw.add_patch_reply(pw.patch_ids(v1)[0], "Reviewed-by: Rita Reviewer <rita@example.org>\n")
        v2 = pw.add_series("demo", v2_mbox, date=posted[1], submitter=me)
        pw.add_patch_reply(pw.patch_ids(v2)[0], "Reviewed-by: Rita Reviewer <rita@example.org>\n")
        pw.add_cover_reply(v2, "Tested-by: Tom Tester <tom@example.org>\n")
        git("config", "pwapply.server", pw.url)
        git("config", "pwapply.project", "demo")
        echo(f"a Patchwork-shaped server on {pw.url} holds v1 (series {v1}) and v2 (series {v2})")
        steps: List[Tuple[str, List[str]]] = [
            ("what waits for review", ["pwapply", "list"]),
            ("apply v1 on a new branch", ["pwapply", str(v1)]),
            ("apply v2 on a new branch", ["pwapply", str(v2), "--base", "main"]),
            ("what changed from v1 to v2", ["pwapply", "diff", str(v2), "--no-pager"]),
            ("install the pre-push hook", ["pwapply", "hooks", "install"]),
        ]
        for title, argv in steps:
            if show(title, argv) != 0:
                echo(f"demo: the step '{title}' failed; everything is in {root}")
                return 1
            if argv[1:] == [str(v2), "--base", "main"]:
                # The headline: a commit as pwapply made it, with its trailers.
                echo("")
                echo("$ git log -1 --format=%B pw/make-the-tool-sturdier-v2~3        # one commit, as applied")
                echo(git("log", "-1", "--format=%B", "pw/make-the-tool-sturdier-v2~3").rstrip())
        git("checkout", "-q", "pw/make-the-tool-sturdier-v1")
        echo("")
        echo("$ git push origin pw/make-the-tool-sturdier-v1        # the hook refuses the superseded v1")
        v1_pushed = program(
            ["git", "push", "origin", "pw/make-the-tool-sturdier-v1"], cwd=repo, env=env, one_stream=True
        )
        # The life of the branch: a tag given on the list since the apply, then the push.
        git("checkout", "-q", "pw/make-the-tool-sturdier-v2")
        pw.add_cover_reply(v2, "Acked-by: Ann Acker <ann@example.org>\n", author=("Ann Acker", "ann@example.org"))
        echo("")
        echo("(meanwhile, on the list: Ann Acker acks v2, in a reply to its cover letter: for every patch)")
        life: List[Tuple[str, List[str]]] = [
            ("the branches pwapply made, and what changed since", ["pwapply", "status"]),
            ("add Ann's Acked-by to every commit of the branch", ["pwapply", "update"]),
        ]
        for title, argv in life:
            if show(title, argv) != 0:
                echo(f"demo: the step '{title}' failed; everything is in {root}")
                return 1
        echo("")
        echo("$ git push origin pw/make-the-tool-sturdier-v2        # v2 is the latest: it goes")
        v2_pushed = program(
            ["git", "push", "origin", "pw/make-the-tool-sturdier-v2"], cwd=repo, env=env, one_stream=True
        )
        if show("the pushed patches to mark accepted (a maintainer's token does it)", ["pwapply", "accept", "-n"]):
            echo(f"demo: 'pwapply accept --dry-run' failed; everything is in {root}")
            return 1
    echo("")
    refused, accepted = v1_pushed != 0, v2_pushed == 0
    echo(f"v1 push refused: {'yes' if refused else 'NO'}; v2 push accepted: {'yes' if accepted else 'NO'}")
    echo(f"everything is in {root}: the project in {repo}, its remote in {remote}")
    echo("(the demo server has stopped; look around with git log, or remove the directory)")
    return 0 if refused and accepted else 1


def _make_project(repo: str, git: Callable[..., str]) -> None:
    files: Dict[str, str] = {
        "README": "A small tool.\n",
        "src/main.c": "#include <stdio.h>\n\nint verbose;\n\nint main(void)\n{\n    return 0;\n}\n",
        "src/parse.c": "int parse(const char *s)\n{\n    if (!s) {\n    return -1;\n    }\n    return 0;\n}\n",
        "src/io.c": "#include <unistd.h>\n\nvoid done(int fd)\n{\n    close(fd);\n}\n",
        "docs/usage.txt": "Usage\n=====\n\nRun it.\n",
    }
    os.makedirs(repo)
    git("init", "-q", cwd=repo)
    git("checkout", "-q", "-b", "main")
    for path, text in files.items():
        full = os.path.join(repo, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as fh:
            fh.write(text)
    git("add", ".")
    git("commit", "-qm", "Initial import")


def _series(
    repo: str, git: Callable[..., str], edits: Sequence[Tuple[str, str, str, str]], version: int, base: str
) -> bytes:
    git("checkout", "-q", "--detach", base)
    for path, old, new, subject in edits:
        full = os.path.join(repo, path)
        with open(full) as fh:
            text = fh.read()
        with open(full, "w") as fh:
            fh.write(text.replace(old, new, 1))
        git("commit", "-qam", f"{subject}\n\nSigned-off-by: Ada Author <ada@example.org>")
    mbox = git(
        "format-patch", "--stdout", "--cover-letter", "--thread", f"-v{version}", f"--base={base}", f"{base}..HEAD"
    )
    git("checkout", "-q", "main")
    # format-patch's Message-IDs come from commit ids and the clock: the unchanged patches
    # of v1 and v2, made in the same second, would share one.  Real mail never does.
    mbox = re.sub(r"<([0-9a-f]{40}|cover)\.(\d+)\.git\.", rf"<\1.\2.v{version}.git.", mbox)
    mbox = mbox.replace("*** SUBJECT HERE ***", "Make the tool sturdier")
    return mbox.replace("*** BLURB HERE ***", "A few fixes found by a fuzzer.").encode()
