#pragma once

#include <QObject>

#include <initializer_list>

class QSocketNotifier;

namespace Hermes {

/**
 * Turns POSIX signals (SIGTERM, SIGINT) into a Qt signal delivered on the event loop.
 *
 * The handler only writes the signal number to a socketpair (async-signal-safe); the Qt side
 * reads it through a QSocketNotifier. One instance per process.
 */
class SignalWatcher final : public QObject
{
    Q_OBJECT
public:
    explicit SignalWatcher(std::initializer_list<int> signalNumbers, QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void signalReceived(int signal);

private:
    void onReadable();
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace Hermes
