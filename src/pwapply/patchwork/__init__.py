"""Everything pwapply says to Patchwork: transport.py speaks HTTP (the only module that
imports httpx), client.py names the endpoints and makes the clients, models.py turns the
JSON into typed values, locate.py finds the series a SeriesRef names."""
