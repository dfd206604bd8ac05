#pragma once

// What tst_eventjournal and tst_journaldamage both need: opening a journal inside a test and
// making events to append.

#include "broker/eventjournal.h"

#include <QTest>

// Opens `journal` into `loaded`, or fails the test with why it could not.
#define OPEN_JOURNAL(loaded, journal, bootId)                                                      \
    const Hermes::Result<Hermes::EventJournal::Loaded> loaded##Opened = (journal).open(bootId);    \
    QVERIFY2(loaded##Opened, qPrintable(loaded##Opened ? QString() : loaded##Opened.error().message)); \
    const Hermes::EventJournal::Loaded &loaded = *loaded##Opened

/// An event on channel index `channel` with the next id of `ids` and `n` in its data.
inline Hermes::Event makeJournalEvent(Hermes::EventIdGenerator &ids, int channel, int n)
{
    Hermes::Event e;
    e.id = ids.next();
    e.channel = *Hermes::Channel::fromIndex(channel);
    e.type = QStringLiteral("t%1").arg(channel);
    e.data = {{QStringLiteral("n"), n}};
    e.timestamp = QStringLiteral("2026-11-28T00:00:00.000Z");
    return e;
}
