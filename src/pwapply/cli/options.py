"""The options several commands share, declared once: the server and project, the
network (--timeout, --ca-bundle), the output (--json, -v, -q)."""

from __future__ import annotations

import typer

SERVER = typer.Option(
    None,
    "--server",
    metavar="URL",
    help="Patchwork server, e.g. --server https://patchwork.ozlabs.org (default: git config pwapply.server).",
)
PROJECT = typer.Option(
    None, "--project", metavar="NAME", help="Patchwork project for Message-ID lookups, e.g. --project qemu-devel."
)
ARCHIVE_URL = typer.Option(
    None,
    "--archive",
    metavar="URL",
    help="The list's public-inbox archive, e.g. --archive https://lore.kernel.org/qemu-devel "
    "(default: git config pwapply.archive, .b4-config's midmask, or the known project's).",
)
TIMEOUT = typer.Option(
    30.0,
    "--timeout",
    metavar="SECONDS",
    help="Give up on the server after this long, all requests together, e.g. --timeout 60.",
)
CA_BUNDLE = typer.Option(
    None, "--ca-bundle", metavar="FILE", help="Trust the CAs in FILE for https, e.g. --ca-bundle /etc/my-ca.pem."
)
JSON = typer.Option(False, "--json", help="Print the result as JSON on stdout.")
VERBOSE = typer.Option(False, "--verbose", "-v", help="Show HTTP requests and git commands.")
QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")
