#include "broker/historybudget.h"

namespace Hermes {

qint64 HistoryBudget::weight(const Event &event)
{
    // The envelope frame carries the envelope, the named frame its data: about twice the
    // envelope, as held.
    return 2 * qint64(event.envelopeJson().size());
}

qsizetype HistoryBudget::keepNewest(const QList<Event> &events)
{
    qsizetype from = events.size();
    while (!m_full && from > 0) {
        if (m_kept >= m_count || m_held >= m_bytes) {
            m_full = true;
            break;
        }
        --from;
        m_held += weight(events[from]);
        ++m_kept;
    }
    return from;
}

} // namespace Hermes
