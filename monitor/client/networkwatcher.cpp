#include "networkwatcher.h"

#include <QDateTime>
#include <QNetworkInformation>

namespace Hermes {

NetworkWatcher::NetworkWatcher(QObject *parent) : QObject(parent)
{
    if (QNetworkInformation::load(QNetworkInformation::Feature::Reachability)) {
        if (QNetworkInformation *info = QNetworkInformation::instance()) {
            m_reachability = true;
            connect(info, &QNetworkInformation::reachabilityChanged, this,
                    [this](QNetworkInformation::Reachability r) {
                if (r == QNetworkInformation::Reachability::Online
                    || r == QNetworkInformation::Reachability::Site
                    || r == QNetworkInformation::Reachability::Local)
                    Q_EMIT networkAvailable();
            });
        }
    }
    m_monotonic.start();
    m_tick.setInterval(5000);
    connect(&m_tick, &QTimer::timeout, this, [this] {
        checkClocks(QDateTime::currentMSecsSinceEpoch(), m_monotonic.elapsed());
    });
    m_tick.start();
}

void NetworkWatcher::checkClocks(qint64 wallMs, qint64 monotonicMs)
{
    if (m_lastWallMs >= 0) {
        const qint64 drift = (wallMs - m_lastWallMs) - (monotonicMs - m_lastMonotonicMs);
        if (drift > ResumeThresholdMs)
            Q_EMIT resumed();
    }
    m_lastWallMs = wallMs;
    m_lastMonotonicMs = monotonicMs;
}

} // namespace Hermes
