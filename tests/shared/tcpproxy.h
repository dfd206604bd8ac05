#pragma once

#include <QObject>
#include <QThread>

namespace Hermes::Test {

/**
 * A TCP proxy on a free port of 127.0.0.1 towards `targetPort`, on its own thread (so a test
 * blocked in a synchronous request does not stall it). stall() stops forwarding in both
 * directions while keeping every connection open — what a network partition looks like to a
 * client: no error, no answer; unstall() lets the held bytes through.
 */
class TcpProxy final
{
public:
    explicit TcpProxy(quint16 targetPort);
    ~TcpProxy();

    quint16 port() const { return m_port; }
    void stall();
    void unstall();

private:
    class Worker;
    QThread m_thread;
    Worker *m_worker = nullptr;
    quint16 m_port = 0;
};

} // namespace Hermes::Test
