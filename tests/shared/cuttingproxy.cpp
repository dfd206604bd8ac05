#include "cuttingproxy.h"

#include <QDateTime>
#include <QTcpSocket>

namespace Hermes::Test {

// While throttled, Qt may hold this much of the upstream stream; the rest stays in the
// kernel, whose buffers then fill up towards the server.
static constexpr qint64 ThrottledReadBuffer = 16 * 1024;
// ...and the kernel's receive buffer shrinks too, so that a server's writes meet a full
// window after tens of kilobytes rather than megabytes of loopback autotuning.
static constexpr int ThrottledKernelBuffer = 8 * 1024;

static void throttle(QTcpSocket *upstream, bool on)
{
    upstream->setReadBufferSize(on ? ThrottledReadBuffer : 0);
    if (on && upstream->state() == QAbstractSocket::ConnectedState)
        upstream->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, ThrottledKernelBuffer);
}

CuttingProxy::CuttingProxy(QObject *parent) : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &CuttingProxy::onNewConnection);
    m_tick.setInterval(10);
    connect(&m_tick, &QTimer::timeout, this, &CuttingProxy::onTick);
}

CuttingProxy::~CuttingProxy()
{
    while (!m_links.isEmpty()) {
        QTcpSocket *client = m_links.first()->client;
        endLink(m_links.first());
        client->abort();
    }
}

bool CuttingProxy::listen(quint16 upstreamPort)
{
    m_upstreamPort = upstreamPort;
    return m_server.listen(QHostAddress::LocalHost, 0);
}

void CuttingProxy::setRate(qint64 bytesPerSecond)
{
    m_rate = qMax<qint64>(0, bytesPerSecond);
    for (Link *link : m_links)
        throttle(link->upstream, m_rate > 0);
    if (m_rate > 0 && !m_tick.isActive()) {
        m_lastTickMs = QDateTime::currentMSecsSinceEpoch();
        m_tick.start();
    } else if (m_rate == 0) {
        m_tick.stop();
        const QList<Link *> links = m_links;
        for (Link *link : links)
            pump(link);
    }
}

void CuttingProxy::cutAfter(qint64 bytes)
{
    if (m_links.isEmpty()) {
        m_armedCut = qMax<qint64>(0, bytes);
        return;
    }
    const QList<Link *> links = m_links;
    for (Link *link : links) {
        link->cutAt = link->forwarded + qMax<qint64>(0, bytes);
        pump(link);
    }
}

void CuttingProxy::cutAll()
{
    const QList<Link *> links = m_links;
    for (Link *link : links)
        cutLink(link);
}

void CuttingProxy::onNewConnection()
{
    while (QTcpSocket *client = m_server.nextPendingConnection()) {
        auto *link = new Link;
        link->client = client;
        link->upstream = new QTcpSocket(this);
        link->cutAt = m_armedCut;
        m_armedCut = -1;
        m_links.append(link);
        throttle(link->upstream, m_rate > 0);

        connect(client, &QTcpSocket::readyRead, this, [link] {
            const QByteArray bytes = link->client->readAll();
            if (link->upstream->state() == QAbstractSocket::ConnectedState)
                link->upstream->write(bytes);
            else
                link->toUpstream += bytes;
        });
        connect(client, &QTcpSocket::disconnected, this, [this, link] { endLink(link); });
        connect(link->upstream, &QTcpSocket::connected, this, [this, link] {
            throttle(link->upstream, m_rate > 0);
            link->upstream->write(link->toUpstream);
            link->toUpstream.clear();
        });
        connect(link->upstream, &QTcpSocket::readyRead, this, [this, link] { pump(link); });
        connect(link->upstream, &QTcpSocket::disconnected, this, [this, link] {
            link->upstreamClosed = true;
            pump(link);
        });
        connect(link->upstream, &QTcpSocket::errorOccurred, this, [this, link] {
            if (link->upstream->state() != QAbstractSocket::ConnectedState) {
                link->upstreamClosed = true;
                pump(link);
            }
        });
        link->upstream->connectToHost(QHostAddress::LocalHost, m_upstreamPort);
        if (link->cutAt == 0)
            cutLink(link);
    }
}

void CuttingProxy::pump(Link *link)
{
    if (!m_links.contains(link))
        return;
    QTcpSocket *up = link->upstream;
    qint64 allowed = m_rate > 0 ? qint64(link->budget) : up->bytesAvailable();
    if (link->cutAt >= 0)
        allowed = qMin(allowed, link->cutAt - link->forwarded);
    if (allowed > 0 && up->isOpen()) {
        // Asking for more than Qt holds is what makes it read the kernel again once its
        // (throttled) buffer was full; it never returns more than `allowed`.
        const QByteArray bytes = up->read(allowed);
        if (!bytes.isEmpty()) {
            link->client->write(bytes);
            link->forwarded += bytes.size();
            m_downstreamTotal += bytes.size();
            if (m_rate > 0)
                link->budget -= double(bytes.size());
        }
    }
    if (link->cutAt >= 0 && link->forwarded >= link->cutAt) {
        cutLink(link);
        return;
    }
    if (link->upstreamClosed && (!up->isOpen() || up->bytesAvailable() == 0))
        endLink(link);
}

void CuttingProxy::onTick()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const double elapsed = double(now - m_lastTickMs) / 1000.0;
    m_lastTickMs = now;
    // A small burst allowance, at least one byte so that very low rates still progress.
    const double cap = qMax(double(m_rate) * 0.05, 1.0);
    const QList<Link *> links = m_links;
    for (Link *link : links) {
        link->budget = qMin(cap, link->budget + double(m_rate) * elapsed);
        pump(link);
    }
}

void CuttingProxy::cutLink(Link *link)
{
    if (endLink(link))
        Q_EMIT cut();
}

bool CuttingProxy::endLink(Link *link)
{
    if (!m_links.removeOne(link))
        return false;
    QTcpSocket *client = link->client;
    QTcpSocket *upstream = link->upstream;
    delete link;
    // No handler of ours may run from here on: closing a socket emits its signals at once.
    client->disconnect(this);
    upstream->disconnect(this);
    upstream->abort(); // the server sees a reset on its next write
    upstream->deleteLater();
    // The bytes written so far reach the client, then the end of the connection. Deleting a
    // socket aborts it, which would drop what it still has to send: it goes once closed.
    client->disconnectFromHost();
    if (client->state() == QAbstractSocket::UnconnectedState)
        client->deleteLater();
    else
        connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
    return true;
}

} // namespace Hermes::Test
