#include "stream/streaminbox.h"

namespace Hermes {

StreamInbox::StreamInbox(int maxQueuedEvents, int roundIntervalMs, qint64 maxQueuedBytes,
                         QObject *parent)
    : QObject(parent), m_maxQueuedEvents(maxQueuedEvents), m_maxQueuedBytes(maxQueuedBytes),
      m_roundIntervalMs(roundIntervalMs),
      m_roundTimer(this)
{
    m_roundTimer.setSingleShot(true);
    m_roundTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_roundTimer, &QTimer::timeout, this, &StreamInbox::flushDue);
}

void StreamInbox::deliver(const EncodedEventPtr &event)
{
    const std::lock_guard lock(m_lock);
    if (!m_entries.empty() && m_entries.back().kind == Entry::Skip) {
        m_entries.back().newest = event->id;
    } else if (m_events >= m_maxQueuedEvents || m_bytes >= m_maxQueuedBytes) {
        // This thread is this far behind the hub: what follows is not queued again but read
        // from the history, where it already is (see StreamWorker::skipTo()).
        m_entries.push_back({nullptr, Entry::Skip, 0, event->id, false, 0});
    } else {
        m_entries.push_back({event, Entry::Event, 0, {}, false, 0});
        ++m_events;
        m_bytes += event->heldBytes();
    }
    scheduleFlushLocked();
}

void StreamInbox::setHistory(quint32 epoch, EventId newest, bool reset, quint64 generation)
{
    const std::lock_guard lock(m_lock);
    m_entries.push_back({nullptr, Entry::History, epoch, newest, reset, generation});
    scheduleFlushLocked();
}

void StreamInbox::eventsLost(Channel::Mask channels)
{
    const std::lock_guard lock(m_lock);
    m_entries.push_back({nullptr, Entry::Lost, 0, {}, false, 0, channels});
    scheduleFlushLocked();
}

void StreamInbox::scheduleFlushLocked()
{
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        QMetaObject::invokeMethod(this, &StreamInbox::flushDue, Qt::QueuedConnection);
    }
}

bool StreamInbox::take(std::vector<Entry> *out)
{
    HERMES_ASSERT_THREAD(this);
    const std::lock_guard lock(m_lock);
    if (m_roundIntervalMs > 0 && m_events > 0) {
        // A round of events waits for its interval (a history change alone does not);
        // m_flushScheduled stays set meanwhile, so nothing queues another flushDue().
        const qint64 left = m_lastRound.isValid() ? m_roundIntervalMs - m_lastRound.elapsed() : 0;
        if (left > 0) {
            if (!m_roundTimer.isActive())
                m_roundTimer.start(int(left));
            return false;
        }
        m_lastRound.start();
    }
    out->swap(m_entries);
    m_events = 0;
    m_bytes = 0;
    m_flushScheduled = false;
    return true;
}

} // namespace Hermes
