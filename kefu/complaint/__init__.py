"""The six-step complaint procedure: listen, share, probe, check, action, satisfy.

Pure Python (no Rasa imports) so the steps can be unit tested without a server;
`actions/` calls into these modules.
"""

STEPS = ("listen", "share", "probe", "check", "action", "satisfy")
CATEGORIES = ("delivery", "quality", "wrong_item", "service", "billing", "other")
