"""A custom action whose server is down answers with an apology instead of silence
(kefu.action_failure)."""
import logging

from kefu.action_failure import failure_events, is_server_down
from kefu.patches.base import Patch, Replacement

logger = logging.getLogger(__name__)


def _apologising_run(original):
    async def run(self, output_channel, nlg, tracker, domain):
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except Exception as error:
            if not is_server_down(error):
                raise
            logger.error("action server unavailable for %s (%s): the customer gets an apology",
                         self.name(), error)
            return failure_events(self.name(), tracker)

    run.kefu_fix = True
    return run


PATCH = Patch(Replacement("rasa.core.actions.action:RemoteAction", "run", _apologising_run))
apply, revert = PATCH.apply, PATCH.revert
