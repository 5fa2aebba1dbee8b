"""The network: the one HTTP transport under every client (transport.py)."""
