"""The SQL tracker store builds an ORM object per stored event to read its `data`
column: it now reads only that column (rows with `.data`, same order and count)."""
from kefu.patches.base import Patch, Replacement


def _only_event_data(original):
    def event_query(self, session, sender_id, fetch_events_from_all_sessions):
        query = original(self, session, sender_id, fetch_events_from_all_sessions)
        return query.with_entities(self.SQLEvent.data)  # rows with `.data`, same order and count

    event_query.kefu_fix = True
    return event_query


PATCH = Patch(Replacement("rasa.core.tracker_store:SQLTrackerStore", "_event_query", _only_event_data))
apply, revert = PATCH.apply, PATCH.revert
