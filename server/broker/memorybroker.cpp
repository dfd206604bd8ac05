#include "broker/memorybroker.h"

#include "logging.h"

namespace Hermes {

MemoryBroker::MemoryBroker(std::unique_ptr<EventJournal> journal, QObject *parent)
    : Broker(parent), m_journal(std::move(journal))
{
}

MemoryBroker::~MemoryBroker()
{
    stop();
}

Result<void> MemoryBroker::start()
{
    HERMES_ASSERT_THREAD(this);
    if (!m_journal) {
        m_ids.setEpoch(EventId::randomEpoch());
        noteIssued();
        Q_EMIT historyLoaded(m_ids.last().epoch(), {}, {});
        return {};
    }
    Result<EventJournal::Loaded> opened = m_journal->open();
    if (!opened)
        return opened.error();
    const EventJournal::Loaded &loaded = *opened;
    if (!loaded.whyNew.isEmpty())
        qCWarning(lcBroker).noquote() << "history not kept:" << loaded.whyNew
                                      << "- clients that resume will resync";
    else if (!loaded.newEpoch)
        qCInfo(lcBroker) << "history: kept" << loaded.events.size() << "event(s)";
    m_ids.setEpoch(loaded.epoch);
    m_ids.advanceTo(loaded.newest.withEpoch(loaded.epoch));
    noteIssued();
    if (m_journal->needsPeriodicSync()) {
        m_syncTimer.setInterval(1000);
        connect(&m_syncTimer, &QTimer::timeout, this, [this] { m_journal->syncInBackground(); });
        m_syncTimer.start();
    }
    Q_EMIT historyLoaded(loaded.epoch, loaded.events, loaded.floors);
    return {};
}

void MemoryBroker::stop()
{
    HERMES_ASSERT_THREAD(this);
    if (m_stopped)
        return;
    commit();
    m_stopped = true;
    m_syncTimer.stop();
    if (m_journal)
        m_journal->close();
}

void MemoryBroker::publish(const Event &event, PublishCallback done)
{
    HERMES_ASSERT_THREAD(this);
    if (m_stopped) {
        if (done)
            done(Error::unavailable("shutting_down", QStringLiteral("the server is shutting down")));
        return;
    }
    Event stamped = event;
    stamped.id = m_ids.next();
    noteIssued();
    m_batch.emplace_back(std::move(stamped), std::move(done));
    if (!m_commitScheduled) {
        m_commitScheduled = true;
        QMetaObject::invokeMethod(this, &MemoryBroker::commit, Qt::QueuedConnection);
    }
}

void MemoryBroker::commit()
{
    HERMES_ASSERT_THREAD(this);
    m_commitScheduled = false;
    if (m_batch.empty())
        return;
    const auto batch = std::move(m_batch);
    m_batch.clear();
    if (!m_journal) {
        deliver(batch, 0, batch.size());
        return;
    }
    QList<Event> events;
    events.reserve(qsizetype(batch.size()));
    for (const auto &entry : batch)
        events.append(entry.first);
    // In parts that each fit a journal segment (EventJournal::appendable), each kept and
    // delivered before the next: a burst never makes a segment larger than its bound.
    for (qsizetype from = 0; from < events.size();) {
        const qsizetype end = m_journal->appendable(events, from);
        if (const Result<void> appended = m_journal->append(events.mid(from, end - from)); !appended) {
            // Not kept means not delivered: a client could not resume across it.
            qCCritical(lcBroker).noquote() << "history:" << appended.error().message
                                           << "- events are refused";
            if (m_up) {
                m_up = false;
                Q_EMIT statusChanged(false);
            }
            for (size_t i = size_t(from); i < batch.size(); ++i) {
                if (batch[i].second)
                    batch[i].second(Error::unavailable("history_unavailable", QStringLiteral("the event history cannot be written")));
            }
            return;
        }
        if (!m_up) {
            m_up = true;
            Q_EMIT statusChanged(true);
        }
        deliver(batch, size_t(from), size_t(end));
        from = end;
    }
}

void MemoryBroker::deliver(const std::vector<std::pair<Event, PublishCallback>> &batch, size_t from, size_t end)
{
    for (size_t i = from; i < end; ++i) {
        Q_EMIT eventReceived(batch[i].first);
        if (batch[i].second)
            batch[i].second(batch[i].first.id);
    }
}

} // namespace Hermes
