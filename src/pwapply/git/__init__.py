"""Everything pwapply does with git, one git command at a time: run.py runs them, repo.py
reads and moves the user's repository, scratch.py applies in a temporary worktree,
rewrite.py adds the trailers to the commits made there."""
