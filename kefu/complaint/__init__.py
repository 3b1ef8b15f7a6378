"""The six-step complaint procedure: listen, share, probe, check, action, satisfy.

Pure Python (no Rasa imports) so the steps can be unit tested without a server;
`actions/` calls into these modules. The steps and categories live in
:mod:`kefu.complaint.steps`, re-exported here.
"""
from kefu.complaint.steps import CATEGORIES, STEP_NAMES, STEPS

__all__ = ["CATEGORIES", "STEP_NAMES", "STEPS"]
