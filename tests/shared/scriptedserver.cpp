#include "scriptedserver.h"

#include <QTimer>

namespace Hermes::Test {

ScriptedServer::ScriptedServer(Script script, QObject *parent)
    : QObject(parent), m_script(std::move(script))
{
    m_server.listen(QHostAddress::LocalHost, 0);
    connect(&m_server, &QTcpServer::newConnection, this, &ScriptedServer::onNewConnection);
}

QString ScriptedServer::url(const QString &path) const
{
    return QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(path);
}

QByteArray ScriptedServer::requestHeader(int n, QByteArrayView name) const
{
    for (const QByteArray &line : m_requests.value(n).split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && name.compare(line.left(colon).trimmed(), Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

void ScriptedServer::dropConnections()
{
    for (const auto &socket : std::as_const(m_sockets)) {
        if (socket)
            socket->abort();
    }
    m_sockets.clear();
}

ScriptedServer::Response ScriptedServer::eventStream(const QList<QByteArray> &parts, bool closeAfter,
                                                     const QByteArray &contentType)
{
    return {"HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nCache-Control: no-cache",
            parts, false, closeAfter};
}

ScriptedServer::Response ScriptedServer::status(int code, const QByteArray &extraHeaders)
{
    const QByteArray body = "{\"error\":{\"code\":\"scripted\",\"message\":\"scripted\"}}";
    QByteArray head = "HTTP/1.1 " + QByteArray::number(code) + " Scripted\r\nContent-Type: "
                      "application/json\r\nContent-Length: " + QByteArray::number(body.size());
    if (!extraHeaders.isEmpty())
        head += "\r\n" + extraHeaders;
    return {head, {body}, false, true};
}

void ScriptedServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        m_sockets.append(socket);
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        auto *buffer = new QByteArray;
        connect(socket, &QObject::destroyed, this, [buffer] { delete buffer; });
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            *buffer += socket->readAll();
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QByteArray request = buffer->left(end);
            // A body (Content-Length) is read whole and kept beside the request's head.
            qsizetype length = 0;
            for (const QByteArray &line : request.split('\n')) {
                if (line.toLower().startsWith("content-length:"))
                    length = line.mid(15).trimmed().toLongLong();
            }
            if (buffer->size() < end + 4 + length)
                return;
            m_bodies.append(buffer->mid(end + 4, length));
            buffer->clear();
            const int n = int(m_requests.size());
            m_requests.append(request);
            const Response response = m_script(n, request);
            QByteArray head = response.head;
            if (response.chunked)
                head += "\r\nTransfer-Encoding: chunked";
            if (response.closeAfter) {
                // Say so (RFC 9112 9.6), or a client may send its next request on this
                // connection, which the close below would then cut in the middle of its answer.
                if (!head.toLower().contains("\r\nconnection:"))
                    head += "\r\nConnection: close";
                // Nothing more is read here: a request that still arrives is not answered.
                disconnect(socket, &QTcpSocket::readyRead, this, nullptr);
            }
            socket->write(head + "\r\n\r\n");
            // Body parts leave 20 ms apart, so the client sees them in separate reads.
            QPointer<QTcpSocket> guard(socket);
            int delay = 20;
            for (const QByteArray &part : response.bodyParts) {
                QTimer::singleShot(delay, socket, [guard, part, chunked = response.chunked] {
                    if (!guard)
                        return;
                    guard->write(chunked ? QByteArray::number(part.size(), 16) + "\r\n" + part + "\r\n"
                                         : part);
                });
                delay += 20;
            }
            if (response.closeAfter) {
                QTimer::singleShot(qMax(delay, response.closeAfterMs), socket, [guard, chunked = response.chunked] {
                    if (!guard)
                        return;
                    if (chunked)
                        guard->write("0\r\n\r\n");
                    guard->disconnectFromHost();
                });
            }
        });
    }
}

} // namespace Hermes::Test
