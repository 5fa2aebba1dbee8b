"""A Patchwork-shaped server on loopback for tests, benchmarks and `pwapply demo`:
server.py speaks HTTP, store.py holds the data and renders it as Patchwork does."""

from .server import FakePatchwork
from .store import Fault

__all__ = ["FakePatchwork", "Fault"]
