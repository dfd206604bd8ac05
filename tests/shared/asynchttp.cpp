#include "asynchttp.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

namespace Hermes::Test {

namespace {

class Exchange final : public QObject
{
public:
    // A child of the context: if the context goes first, so does the exchange, uncalled.
    Exchange(QObject *context, std::function<void(const HttpReply &)> done)
        : QObject(context), m_context(context), m_done(std::move(done))
    {
        connect(&m_socket, &QTcpSocket::connected, this, [this] { m_socket.write(m_request); });
        connect(&m_socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        connect(&m_socket, &QTcpSocket::disconnected, this, [this] { finish(); });
        connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] {
            if (m_socket.state() != QAbstractSocket::ConnectedState)
                finish();
        });
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, [this] { finish(); });
    }

    // Destroyed with its context while under way: the socket's destructor disconnects and
    // would emit into finish() after m_timer (declared after it) is already gone (UBSan: a
    // member call on a destroyed QTimer, which failed a delivery-model run in CI at teardown).
    ~Exchange() override
    {
        m_finished = true;
        m_socket.disconnect(this);
        m_timer.disconnect(this);
    }

    void start(quint16 port, QByteArray request, int timeoutMs)
    {
        m_request = std::move(request);
        m_timer.start(timeoutMs);
        m_socket.connectToHost(QHostAddress::LocalHost, port);
    }

private:
    void onReadyRead()
    {
        m_buffer += m_socket.readAll();
        if (m_headerEnd < 0) {
            const qsizetype pos = m_buffer.indexOf("\r\n\r\n");
            if (pos < 0)
                return;
            m_headerEnd = pos + 4;
            m_reply.status = parseResponseHead(QByteArrayView(m_buffer).first(pos), &m_reply.headers);
            m_length = m_reply.header("content-length").toLongLong();
        }
        if (m_buffer.size() - m_headerEnd >= m_length) {
            m_reply.body = m_buffer.mid(m_headerEnd, m_length);
            m_complete = true;
            finish();
        }
    }

    void finish()
    {
        if (m_finished)
            return;
        m_finished = true;
        m_timer.stop();
        m_socket.disconnect(this);
        m_socket.abort();
        if (!m_complete)
            m_reply = HttpReply();
        if (m_context)
            m_done(m_reply);
        deleteLater();
    }

    QPointer<QObject> m_context;
    std::function<void(const HttpReply &)> m_done;
    QTcpSocket m_socket;
    QTimer m_timer;
    QByteArray m_request;
    QByteArray m_buffer;
    HttpReply m_reply;
    qsizetype m_headerEnd = -1;
    qint64 m_length = 0;
    bool m_complete = false;
    bool m_finished = false;
};

} // namespace

void httpRequestAsync(QObject *context, quint16 port, const QByteArray &method,
                      const QByteArray &path, const QList<QPair<QByteArray, QByteArray>> &headers,
                      const QByteArray &body, int timeoutMs,
                      std::function<void(const HttpReply &)> done)
{
    QByteArray request = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto &h : headers)
        request += h.first + ": " + h.second + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT")
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n" + body;
    auto *exchange = new Exchange(context, std::move(done));
    exchange->start(port, request, timeoutMs);
}

} // namespace Hermes::Test
