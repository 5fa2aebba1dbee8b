"""Where series come from: one seam for every source.

- model.py: the one shape of what a source gives (Key, Series, Summary, Facts, Known);
- base.py: the one interface every source implements (Source);
- table.py: which adapter a kind of Key is; policy.py: which source is asked when;
- patchwork/, archive/, mbox.py: one adapter a source, with its client;
- connection.py: how a run reaches the servers (it makes every client).

Nothing outside this package asks which source a series came from.
"""
