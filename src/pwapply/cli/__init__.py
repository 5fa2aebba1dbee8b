"""The command line: app.py declares the commands (Typer), options.py the options they
share, render.py turns results into lines and JSON, boundary.py turns errors and
signals into messages and exit codes, console.py writes to stderr.  Only app.py and
options.py import Typer: the pre-push hook's fast path uses the others without it."""
