#pragma once

#include <QList>
#include <QObject>
#include <QTcpServer>
#include <QTimer>

class QTcpSocket;

namespace Hermes::Test {

/**
 * A TCP proxy on a free port of 127.0.0.1 towards one upstream port, for fault injection.
 *
 * Each accepted connection is forwarded to 127.0.0.1:upstreamPort(). The downstream
 * direction (server to client) can be throttled — the proxy then reads the upstream socket
 * only as fast as the rate allows, so the server's socket buffers fill as with a slow reader
 * — and a connection can be cut after exactly N more downstream bytes: those N bytes reach
 * the client (which may leave it in the middle of a frame, a chunk header or a UTF-8
 * sequence), then the client sees the end of the connection and the server a reset.
 * The client-to-server direction passes unchanged.
 */
class CuttingProxy final : public QObject
{
    Q_OBJECT
public:
    explicit CuttingProxy(QObject *parent = nullptr);
    ~CuttingProxy() override;

    /// Listens on a free port; returns false when it cannot.
    bool listen(quint16 upstreamPort);
    quint16 port() const { return m_server.serverPort(); }
    quint16 upstreamPort() const { return m_upstreamPort; }
    /// For connections accepted from now on.
    void setUpstreamPort(quint16 port) { m_upstreamPort = port; }

    /// Downstream bytes per second for every connection; 0: unlimited.
    void setRate(qint64 bytesPerSecond);
    qint64 rate() const { return m_rate; }
    /// One shot: the open connections — or, when there is none, the next one accepted — are
    /// cut once `bytes` more bytes have passed downstream (0: at once).
    void cutAfter(qint64 bytes);
    /// Forgets an armed cut that has not happened yet.
    void disarm() { m_armedCut = -1; for (Link *l : m_links) l->cutAt = -1; }
    /// Cuts every open connection now.
    void cutAll();

    int connectionCount() const { return int(m_links.size()); }
    /// Downstream bytes forwarded on every connection so far.
    qint64 downstreamBytes() const { return m_downstreamTotal; }

Q_SIGNALS:
    /// A connection was cut by cutAfter() or cutAll().
    void cut();

private:
    struct Link
    {
        QTcpSocket *client = nullptr;
        QTcpSocket *upstream = nullptr;
        QByteArray toUpstream;  ///< request bytes waiting for the upstream connection
        qint64 forwarded = 0;   ///< downstream bytes so far
        qint64 cutAt = -1;      ///< cut when `forwarded` reaches this; -1: never
        double budget = 0;      ///< bytes the rate allows right now
        bool upstreamClosed = false;
    };

    void onNewConnection();
    void pump(Link *link);
    void onTick();
    void cutLink(Link *link);
    /// Closes both sides; false when the link was already gone.
    bool endLink(Link *link);

    QTcpServer m_server;
    QTimer m_tick;
    QList<Link *> m_links;
    quint16 m_upstreamPort = 0;
    qint64 m_rate = 0;
    qint64 m_armedCut = -1;
    qint64 m_downstreamTotal = 0;
    qint64 m_lastTickMs = 0;
};

} // namespace Hermes::Test
