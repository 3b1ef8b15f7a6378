"""A button payload (`/affirm`, `/rate{"rating":"5"}`) went through the whole NLU
pipeline (about 20 ms), and then the pipeline's last step, Rasa's RegexMessageHandler,
replaced everything the components had said with the intent and entities written in
the payload. For a payload of an intent the domain knows, that last step's answer is
now given at once; any other text goes through the pipeline."""
from kefu.patches.base import Patch, Replacement


def _payloads_without_the_pipeline(original):
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    last_step = f"run_{RegexMessageHandler.__name__}"
    regex_message_handler = RegexMessageHandler()

    def parse_message_with_graph(self, message, tracker, only_output_properties=True):
        text = message.text
        if isinstance(text, str) and text.startswith("/") and self.model_metadata.nlu_target == last_step:
            # The pipeline's last step alone: what it makes of a payload whatever came before it.
            [unpacked] = regex_message_handler.process([Message({TEXT: text})], self.domain)
            if unpacked.get(INTENT):
                parse_data = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                              ENTITIES: []}
                parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
                return parse_data
        return original(self, message, tracker, only_output_properties)

    parse_message_with_graph.kefu_fix = True
    parse_message_with_graph.rasas_own = original  # for tests/test_server_fixes.py
    return parse_message_with_graph


PATCH = Patch(Replacement("rasa.core.processor:MessageProcessor", "_parse_message_with_graph",
                          _payloads_without_the_pipeline))
apply, revert = PATCH.apply, PATCH.revert
