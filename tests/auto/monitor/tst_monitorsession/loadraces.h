// Races between a snapshot load, the events that come meanwhile and the details fetched for
// them, against the scripted server (tst_monitorsession's slots run these).
#pragma once

namespace LoadRaces {

/// Events dropped while a load runs (too many held): the next load pages from the start.
void droppedEventsLoadAnew();
/// A details answer served before a delete and arriving after it brings nothing back.
void aLateDetailsAnswerBringsNothingBack();

} // namespace LoadRaces
