#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <functional>

namespace Hermes::Test {

/**
 * A real local HTTP server whose answers a test scripts: for behaviour hermes-server never
 * shows on purpose (silence after the headers, a 401, a 503 with Retry-After, a wrong content
 * type, a close-delimited or chunked body). It records every request it receives.
 */
class ScriptedServer final : public QObject
{
    Q_OBJECT
public:
    struct Response
    {
        QByteArray head;                 ///< status line and headers, without the blank line
        QList<QByteArray> bodyParts;     ///< written one by one, each after a short pause
        bool chunked = false;            ///< frame the body parts as HTTP chunks
        bool closeAfter = true;          ///< close the connection once the body is written
        int closeAfterMs = 0;            ///< and not before this long after the headers
    };
    /// Answers the n-th request (0-based); past the end, the last response is repeated.
    using Script = std::function<Response(int n, const QByteArray &request)>;

    explicit ScriptedServer(Script script, QObject *parent = nullptr);

    quint16 port() const { return m_server.serverPort(); }
    QString url(const QString &path = QStringLiteral("/events")) const;
    const QList<QByteArray> &requests() const { return m_requests; }
    /// The body of request n (Content-Length), or empty.
    QByteArray requestBody(int n) const { return m_bodies.value(n); }
    /// The value of `name` in request n, or empty.
    QByteArray requestHeader(int n, QByteArrayView name) const;
    /// Closes every open connection (a server going away).
    void dropConnections();

    static Response eventStream(const QList<QByteArray> &parts, bool closeAfter = true,
                                const QByteArray &contentType = "text/event-stream");
    static Response status(int code, const QByteArray &extraHeaders = {});

private:
    void onNewConnection();

    QTcpServer m_server;
    Script m_script;
    QList<QByteArray> m_bodies;
    QList<QByteArray> m_requests;
    QList<QPointer<QTcpSocket>> m_sockets;
};

} // namespace Hermes::Test
