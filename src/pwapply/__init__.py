"""pwapply: apply a Patchwork series as a git branch, with Link trailers."""

__version__ = "0.1.0"
