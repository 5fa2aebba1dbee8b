"""Branches pwapply made, over their life: status.py (what changed since), update.py
(the review tags that arrived, added), accept.py (the pushed patches marked accepted)."""
