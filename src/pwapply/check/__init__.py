"""`pwapply check`: rules.py judges (pure), gather.py asks the servers, command.py is the
command's body (which commits, which settings) that the pre-push hook reaches without
loading Typer."""
