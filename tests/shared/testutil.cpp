#include "testutil.h"

#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>

namespace Hermes::Test {

quint16 freePort()
{
    // Below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default): a port
    // the kernel hands out for port 0 is also the pool every outgoing connection takes its
    // local port from, so under suites that open thousands of sockets it could be taken again
    // before the server binds it. Random, so suites running side by side rarely meet.
    for (int attempt = 0; attempt < 200; ++attempt) {
        const quint16 port = quint16(20000 + QRandomGenerator::global()->bounded(12000));
        QTcpServer server;
        if (server.listen(QHostAddress::LocalHost, port))
            return port;
    }
    QTcpServer server;
    return server.listen(QHostAddress::LocalHost, 0) ? server.serverPort() : 0;
}

QByteArray HttpReply::header(QByteArrayView name) const
{
    const QByteArray lower = name.toByteArray().toLower();
    for (const auto &h : headers) {
        if (h.first == lower)
            return h.second;
    }
    return {};
}

int parseResponseHead(QByteArrayView head, QList<QPair<QByteArray, QByteArray>> *headers)
{
    const QList<QByteArray> lines = head.toByteArray().split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            headers->append({line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed()});
    }
    return lines.value(0).trimmed().split(' ').value(1).toInt();
}

HttpReply httpRequest(quint16 port, const QByteArray &method, const QByteArray &path,
                      const QList<QPair<QByteArray, QByteArray>> &headers,
                      const QByteArray &body, int timeoutMs)
{
    HttpReply reply;
    QDeadlineTimer deadline(timeoutMs);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(int(deadline.remainingTime())))
        return reply;
    QByteArray request = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Connection: close\r\n";
    for (const auto &h : headers)
        request += h.first + ": " + h.second + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT")
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n" + body;
    socket.write(request);

    // Read until the headers and Content-Length bytes of body are in (Qt 6.4's server keeps
    // the connection open after a response, so EOF cannot be the end marker).
    QByteArray buffer;
    qsizetype headerEnd = -1;
    qint64 contentLength = -1;
    while (!deadline.hasExpired()) {
        if (headerEnd >= 0 && contentLength >= 0 && buffer.size() - headerEnd >= contentLength)
            break;
        if (!socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            break;
        buffer += socket.readAll();
        if (headerEnd < 0) {
            const qsizetype pos = buffer.indexOf("\r\n\r\n");
            if (pos < 0)
                continue;
            headerEnd = pos + 4;
            reply.status = parseResponseHead(QByteArrayView(buffer).first(pos), &reply.headers);
            contentLength = reply.header("content-length").isEmpty() ? -1 : reply.header("content-length").toLongLong();
            if (contentLength < 0)
                contentLength = 0; // streams are not read with this helper
        }
    }
    if (headerEnd >= 0)
        reply.body = buffer.mid(headerEnd, contentLength);
    return reply;
}

} // namespace Hermes::Test
