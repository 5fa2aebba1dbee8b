"""`pwapply SERIES`: pipeline.py reads top to bottom and calls the others, each one step:
branch.py (where the series goes), source.py (where it comes from), am.py (git am in the
scratch worktree), trailer_plan.py (what each commit gets), finish.py (past the commit
point).  options.py holds their data."""
