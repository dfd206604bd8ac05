#pragma once

#include "broker/broker.h"
#include "broker/eventjournal.h"

#include <mutex>
#include <QTimer>

#include <memory>
#include <vector>

namespace Hermes {

/**
 * The embedded broker: in-process, nothing to install. Ids from the wall clock, kept
 * increasing across restarts and clock steps; the history is kept on disk by an EventJournal
 * (without one, it starts empty in a new epoch at every start).
 *
 * Events published within one event-loop iteration are written to the journal together, then
 * delivered: a burst costs one write (and, with `fsync always`, one fsync), or one per part
 * when it is larger than a journal segment takes (EventJournal::appendable).
 *
 * Thread contract: it lives on the main thread (start, stop, publish assert it); only
 * mayStillArrive() may be called from any thread (the stream I/O threads), under its lock.
 */
class MemoryBroker final : public Broker
{
    Q_OBJECT
public:
    /// `journal` may be null (nothing is kept across restarts).
    explicit MemoryBroker(std::unique_ptr<EventJournal> journal = {}, QObject *parent = nullptr);
    ~MemoryBroker() override;

    /// Loads the history and emits historyLoaded(); an error when the journal cannot be opened.
    Result<void> start() override;
    /// Writes what is pending and closes the journal cleanly (on shutdown).
    void stop();

    QString name() const override { return QStringLiteral("memory"); }
    bool isUp() const override { return m_up; }
    void publish(const Event &event, PublishCallback done) override;
    HERMES_ANY_THREAD bool mayStillArrive(EventId id) const override
    {
        const std::lock_guard lock(m_issuedLock);
        return id <= m_issued;
    }

private:
    void commit();
    /// Emits and acknowledges batch[from, end).
    void deliver(const std::vector<std::pair<Event, PublishCallback>> &batch, size_t from, size_t end);
    void noteIssued() { const std::lock_guard lock(m_issuedLock); m_issued = m_ids.last(); }

    std::unique_ptr<EventJournal> m_journal;
    EventIdGenerator m_ids;
    mutable std::mutex m_issuedLock; // pthread, so ThreadSanitizer sees it contended
    EventId m_issued; ///< m_ids.last(), for other threads
    std::vector<std::pair<Event, PublishCallback>> m_batch;
    bool m_commitScheduled = false;
    bool m_up = true;
    bool m_stopped = false;
    QTimer m_syncTimer;
};

} // namespace Hermes
