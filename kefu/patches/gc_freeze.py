"""Python's cycle collector walked the whole heap (TensorFlow and the model: about a
million objects) at full collections in the middle of turns; once the model is loaded
those objects are frozen out of its sight (`gc.freeze`)."""
from kefu.patches.base import Patch, Replacement


def _freezing_after_load(original):
    async def load_agent_on_start(*args, **kwargs):
        import gc

        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()  # what exists now lives as long as the server: never scan it again
        return agent

    load_agent_on_start.kefu_fix = True
    return load_agent_on_start


PATCH = Patch(Replacement("rasa.core.run", "load_agent_on_start", _freezing_after_load))
apply, revert = PATCH.apply, PATCH.revert
