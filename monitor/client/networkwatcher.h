#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace Hermes {

/**
 * Tells when reconnecting should not wait: the network became reachable again
 * (QNetworkInformation, when a backend such as NetworkManager's is available), or the machine
 * resumed from suspend.
 *
 * Resume is detected without a session bus: the monotonic clock stops during suspend while
 * the wall clock does not, so a check every few seconds that finds the wall clock far ahead of
 * the monotonic one means the machine slept (or the clock was stepped; a reconnect is harmless
 * then too).
 */
class NetworkWatcher final : public QObject
{
    Q_OBJECT
public:
    explicit NetworkWatcher(QObject *parent = nullptr);

    /// Whether a reachability backend was loaded.
    bool hasReachability() const { return m_reachability; }
    /// One clock comparison: `wallMs` and `monotonicMs` now. Public for tests.
    void checkClocks(qint64 wallMs, qint64 monotonicMs);
    /// How far the wall clock may run ahead of the monotonic one before it counts as a resume.
    static constexpr qint64 ResumeThresholdMs = 15000;

Q_SIGNALS:
    /// The network became reachable (or changed in a way that makes a retry worth it).
    void networkAvailable();
    void resumed();

private:
    QTimer m_tick;
    QElapsedTimer m_monotonic;
    qint64 m_lastWallMs = -1;
    qint64 m_lastMonotonicMs = -1;
    bool m_reachability = false;
};

} // namespace Hermes
