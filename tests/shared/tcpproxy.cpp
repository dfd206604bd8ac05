#include "tcpproxy.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <atomic>

namespace Hermes::Test {

class TcpProxy::Worker final : public QObject
{
public:
    explicit Worker(quint16 target) : m_target(target) {}

    quint16 listen()
    {
        m_server = new QTcpServer(this); // created on the proxy's thread
        connect(m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_server->nextPendingConnection())
                pair(client);
        });
        return m_server->listen(QHostAddress::LocalHost, 0) ? m_server->serverPort() : 0;
    }

    void setStalled(bool stalled)
    {
        m_stalled = stalled;
        if (!stalled) {
            // Let through whatever arrived meanwhile.
            for (const auto &s : std::as_const(m_sockets)) {
                if (s)
                    emit s->readyRead();
            }
        }
    }

private:
    void pair(QTcpSocket *client)
    {
        auto *upstream = new QTcpSocket(this);
        m_sockets << client << upstream;
        auto forward = [this](QTcpSocket *from, QPointer<QTcpSocket> to) {
            connect(from, &QTcpSocket::readyRead, this, [this, from, to] {
                if (m_stalled || !to || to->state() != QAbstractSocket::ConnectedState)
                    return; // held in the socket's buffer until unstalled / connected
                to->write(from->readAll());
            });
            connect(from, &QTcpSocket::disconnected, this, [from, to] {
                if (to)
                    to->disconnectFromHost();
                from->deleteLater();
            });
        };
        forward(client, upstream);
        forward(upstream, client);
        connect(upstream, &QTcpSocket::connected, this, [client] { emit client->readyRead(); });
        upstream->connectToHost(QHostAddress::LocalHost, m_target);
    }

    QTcpServer *m_server = nullptr;
    quint16 m_target;
    bool m_stalled = false;
    QList<QPointer<QTcpSocket>> m_sockets;
};

TcpProxy::TcpProxy(quint16 targetPort)
{
    m_thread.start();
    m_worker = new Worker(targetPort);
    m_worker->moveToThread(&m_thread);
    QMetaObject::invokeMethod(m_worker, [this] { m_port = m_worker->listen(); }, Qt::BlockingQueuedConnection);
}

TcpProxy::~TcpProxy()
{
    Worker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker] { delete worker; }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

void TcpProxy::stall()
{
    Worker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker] { worker->setStalled(true); }, Qt::BlockingQueuedConnection);
}

void TcpProxy::unstall()
{
    Worker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker] { worker->setStalled(false); }, Qt::BlockingQueuedConnection);
}

} // namespace Hermes::Test
