// HttpConnection alone, over a loopback socket pair, with a stand-in for the server (no
// hermes-server binary): requests answered one at a time and in order, the limits enforced as
// the bytes arrive, the timeouts, 100-continue, the end of a connection (Connection: close,
// HTTP/1.0, idle keep-alive) and the lingering close after an error. Short limits and
// timeouts keep it to a few seconds; every wait has a deadline.

#include "http/httpconnection.h"
#include "http/httpexchange.h"
#include "http/httplimits.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTest>
#include <QTimer>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <functional>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Hermes;
using namespace Qt::StringLiterals;

namespace {

/// The server side of the connection: limits, and a handler for each dispatched request.
class Owner final : public HttpConnectionOwner
{
public:
    HttpLimits httpLimits;
    bool closing = false;
    /// Answers a request; the default echoes "<target> <body>".
    std::function<void(HttpExchange &)> handler = [](HttpExchange &ex) {
        ex.reply(200, ex.request().target() + ' ' + ex.request().body(), "text/plain");
    };
    QStringList log; ///< "dispatch <target>", in order

    const HttpLimits &limits() const override { return httpLimits; }
    qint64 bodyLimit(const HttpRequest &) const override { return httpLimits.maxBodyBytes; }
    bool isClosing() const override { return closing; }
    void dispatch(HttpConnection *connection, quint64 seq,
                  const std::shared_ptr<const HttpRequest> &request) override
    {
        log.append(QStringLiteral("dispatch ") + QString::fromLatin1(request->target()));
        HttpExchange ex(connection, seq, request, {}, {});
        handler(ex);
    }
};

struct Reply
{
    int status = 0;
    QByteArray head;
    QByteArray body;
    QByteArray header(QByteArrayView name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.first(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.sliced(colon + 1).trimmed();
        }
        return {};
    }
};

/// The responses complete in `bytes` (each with a Content-Length, or bodyless).
QList<Reply> parseReplies(const QByteArray &bytes)
{
    QList<Reply> out;
    qsizetype pos = 0;
    while (true) {
        const qsizetype end = bytes.indexOf("\r\n\r\n", pos);
        if (end < 0)
            break;
        Reply r;
        r.head = bytes.mid(pos, end - pos);
        r.status = r.head.mid(9, 3).toInt();
        const qint64 length = r.header("content-length").toLongLong();
        if (bytes.size() < end + 4 + length)
            break;
        r.body = bytes.mid(end + 4, length);
        pos = end + 4 + length;
        out.append(r);
    }
    return out;
}

/// The client's end of the pair: non-blocking, read and written here while the event loop
/// runs for the connection.
struct Client
{
    int fd = -1;
    QByteArray in;
    bool eof = false;
    bool reset = false;

    ~Client()
    {
        if (fd >= 0)
            ::close(fd);
    }
    void readAvailable()
    {
        char buffer[16 * 1024];
        while (fd >= 0 && !eof) {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                in.append(buffer, n);
            } else if (n == 0) {
                eof = true;
            } else {
                if (errno == ECONNRESET) {
                    reset = true;
                    eof = true;
                }
                break;
            }
        }
    }
    /// Sends all of `data`, letting the connection read meanwhile; false on an error.
    bool send(QByteArrayView data)
    {
        QElapsedTimer timer;
        timer.start();
        qsizetype sent = 0;
        while (sent < data.size() && timer.elapsed() < 5000) {
            const ssize_t n = ::send(fd, data.data() + sent, size_t(data.size() - sent), MSG_NOSIGNAL);
            if (n > 0)
                sent += n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return false;
            else
                QTest::qWait(5);
        }
        return sent == data.size();
    }
    /// Runs the event loop until `done` or `timeoutMs`.
    bool waitFor(const std::function<bool()> &done, int timeoutMs = 5000)
    {
        QElapsedTimer timer;
        timer.start();
        while (true) {
            readAvailable();
            if (done())
                return true;
            if (timer.elapsed() >= timeoutMs)
                return false;
            QTest::qWait(5);
        }
    }
    bool waitReplies(int count, int timeoutMs = 5000)
    {
        return waitFor([&] { return parseReplies(in).size() >= count; }, timeoutMs);
    }
    bool waitClosed(int timeoutMs = 5000)
    {
        return waitFor([&] { return eof; }, timeoutMs);
    }
    QList<Reply> replies() const { return parseReplies(in); }
};

/// A connection over a fresh loopback pair, swept every 20 ms as HttpServer sweeps its own.
struct Fixture
{
    Owner owner;
    Client client;
    QPointer<HttpConnection> connection;
    QTimer sweep;
    QElapsedTimer sinceAccept;

    explicit Fixture(const HttpLimits &limits)
    {
        owner.httpLimits = limits;
        QObject::connect(&sweep, &QTimer::timeout, &sweep, [this] {
            if (connection)
                connection->checkTimeouts(HttpConnection::now());
        });
        sweep.start(20);
    }
    ~Fixture() { delete connection.data(); }

    bool open()
    {
        const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr *>(&address), length) != 0
            || ::listen(listener, 1) != 0
            || ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
            ::close(listener);
            return false;
        }
        client.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool connected =
            ::connect(client.fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
        const int server = connected ? ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
        ::close(listener);
        if (server < 0)
            return false;
        ::fcntl(client.fd, F_SETFL, ::fcntl(client.fd, F_GETFL) | O_NONBLOCK);
        sinceAccept.start();
        auto *c = new HttpConnection(server, QHostAddress(QHostAddress::LocalHost),
                                     HttpConnection::now(), &owner);
        if (!c->start()) {
            delete c;
            return false;
        }
        connection = c;
        return true;
    }
    /// The connection has ended (closed or released, and deleted).
    bool waitGone(int timeoutMs = 5000)
    {
        return client.waitFor([&] { return connection.isNull(); }, timeoutMs);
    }
};

HttpLimits shortLimits()
{
    HttpLimits l;
    l.maxRequestLine = 256;
    l.maxHeaderBytes = 512;
    l.maxHeaderFields = 8;
    l.maxBodyBytes = 64;
    l.headerTimeoutMs = 300;
    l.bodyTimeoutMs = 300;
    l.idleTimeoutMs = 400;
    l.minBodyBytesPerSecond = 0;
    l.lingerMs = 300;
    return l;
}

QByteArray errorCode(const Reply &r)
{
    const qsizetype at = r.body.indexOf("\"code\":\"");
    return at < 0 ? QByteArray() : r.body.mid(at + 8, r.body.indexOf('"', at + 8) - at - 8);
}

} // namespace

class tst_HttpConnection : public QObject
{
    Q_OBJECT

private slots:
    void pipelinedRequestsAnsweredInOrder();
    void headLimitsAsBytesArrive_data();
    void headLimitsAsBytesArrive();
    void bodyLimitAsBytesArrive_data();
    void bodyLimitAsBytesArrive();
    void headerTimeout();
    void silentClientClosedWithoutAnswer();
    void bodyTimeout();
    void minimumBodyRate();
    void bodyFastEnoughOutlivesTheBodyTimeout();
    void expectContinue();
    void expectContinueRefusedBody();
    void keepAliveByDefault();
    void connectionCloseHonoured();
    void http10Closes();
    void idleKeepAliveTimeout();
    void lingeringCloseAfterAnError();
    void lingeringEndsWhenTheClientCloses();
    void unansweredRequestGets500();
};

// Three requests in one write; the first is answered later (as after a broker's answer). The
// second is not even dispatched before the first is answered, and the answers come in order.
void tst_HttpConnection::pipelinedRequestsAnsweredInOrder()
{
    Fixture f(shortLimits());
    f.owner.handler = [&f](HttpExchange &ex) {
        if (ex.request().target() == "/slow") {
            QTimer::singleShot(100, [ex, &f]() mutable {
                f.owner.log.append(QStringLiteral("answer /slow"));
                ex.reply(200, "slow", "text/plain");
            });
            return;
        }
        f.owner.log.append(QStringLiteral("answer ") + QString::fromLatin1(ex.request().target()));
        ex.reply(200, ex.request().target(), "text/plain");
    };
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"
                          "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
                          "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"));
    QVERIFY(f.client.waitReplies(3));
    const QList<Reply> replies = f.client.replies();
    QCOMPARE(replies.size(), 3);
    QCOMPARE(replies[0].body, QByteArray("slow"));
    QCOMPARE(replies[1].body, QByteArray("/b"));
    QCOMPARE(replies[2].body, QByteArray("/c"));
    QCOMPARE(f.owner.log, (QStringList{u"dispatch /slow"_s, u"answer /slow"_s, u"dispatch /b"_s,
                                       u"answer /b"_s, u"dispatch /c"_s, u"answer /c"_s}));
    QVERIFY(!f.client.eof); // keep-alive
}

// None of these requests ever ends its line or its head: the answer comes as soon as the bytes
// passed the limit, then the connection closes.
void tst_HttpConnection::headLimitsAsBytesArrive_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::newRow("request line > 256") << "GET /" + QByteArray(300, 'a') << 414;
    QTest::newRow("header block > 512") << "GET / HTTP/1.1\r\nHost: h\r\nX: " + QByteArray(600, 'b') << 431;
    QByteArray fields = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 9; ++i)
        fields += "X-" + QByteArray::number(i) + ": 1\r\n";
    QTest::newRow("9 fields") << fields << 431;
}

void tst_HttpConnection::headLimitsAsBytesArrive()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send(request));
    QVERIFY(f.client.waitReplies(1));
    const Reply r = f.client.replies().first();
    QCOMPARE(r.status, status);
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QVERIFY(!errorCode(r).isEmpty());
    QVERIFY(f.owner.log.isEmpty()); // no route saw it
    QVERIFY(f.client.waitClosed());
}

// A body larger than the limit is refused before it is all sent: at once for a declared
// length, as soon as the chunks pass the limit for a chunked one.
void tst_HttpConnection::bodyLimitAsBytesArrive_data()
{
    QTest::addColumn<QByteArray>("request");
    const QByteArray post = "POST /upload HTTP/1.1\r\nHost: h\r\n";
    QTest::newRow("Content-Length 100") << post + "Content-Length: 100\r\n\r\n";
    QTest::newRow("chunks past 64") << post + "Transfer-Encoding: chunked\r\n\r\n20\r\n" + QByteArray(32, 'x')
            + "\r\n20\r\n" + QByteArray(32, 'y') + "\r\n20\r\n" + QByteArray(32, 'z');
}

void tst_HttpConnection::bodyLimitAsBytesArrive()
{
    QFETCH(QByteArray, request);
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send(request));
    QVERIFY(f.client.waitReplies(1));
    const Reply r = f.client.replies().first();
    QCOMPARE(r.status, 413);
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QVERIFY(f.owner.log.isEmpty());
    QVERIFY(f.client.waitClosed());
}

void tst_HttpConnection::headerTimeout()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET / HTTP/1.1\r\nHost: h\r\n"));
    QVERIFY(f.client.waitReplies(1));
    QVERIFY2(f.sinceAccept.elapsed() >= 300, QByteArray::number(f.sinceAccept.elapsed()));
    const Reply r = f.client.replies().first();
    QCOMPARE(r.status, 408);
    QCOMPARE(errorCode(r), QByteArray("request_timeout"));
    QVERIFY(r.body.contains("within 300 ms"));
    QVERIFY(f.client.waitClosed());
}

// Nothing asked, nothing to answer: closed after the header timeout without a byte.
void tst_HttpConnection::silentClientClosedWithoutAnswer()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.waitClosed());
    QVERIFY2(f.sinceAccept.elapsed() >= 300, QByteArray::number(f.sinceAccept.elapsed()));
    QVERIFY(f.client.in.isEmpty());
}

void tst_HttpConnection::bodyTimeout()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"));
    QVERIFY(f.client.waitReplies(1));
    const Reply r = f.client.replies().first();
    QCOMPARE(r.status, 408);
    QVERIFY(r.body.contains("the request body stopped arriving"));
    QVERIFY(f.owner.log.isEmpty());
    QVERIFY(f.client.waitClosed());
}

// A byte every 40 ms never stalls for the body timeout, but is far below 100 bytes/s: once the
// body had its timeout, the average decides.
void tst_HttpConnection::minimumBodyRate()
{
    HttpLimits limits = shortLimits();
    limits.maxBodyBytes = 10'000;
    limits.minBodyBytesPerSecond = 100;
    Fixture f(limits);
    QVERIFY(f.open());
    QVERIFY(f.client.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n"));
    for (int i = 0; i < 100 && !f.client.eof && f.client.replies().isEmpty(); ++i) {
        QVERIFY(f.client.send("x"));
        f.client.waitFor([] { return false; }, 40);
    }
    const QList<Reply> replies = f.client.replies();
    QCOMPARE(replies.size(), 1);
    QCOMPARE(replies.first().status, 408);
    QVERIFY(f.owner.log.isEmpty());
}

// 250 bytes/s takes longer than the body timeout for 100 bytes, and is fine: the body timeout
// bounds a stall, not the whole body.
void tst_HttpConnection::bodyFastEnoughOutlivesTheBodyTimeout()
{
    HttpLimits limits = shortLimits();
    limits.maxBodyBytes = 10'000;
    limits.minBodyBytesPerSecond = 100;
    Fixture f(limits);
    QVERIFY(f.open());
    QVERIFY(f.client.send("POST /slowly HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n"));
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < 10; ++i) {
        QVERIFY(f.client.send(QByteArray(10, char('a' + i))));
        f.client.waitFor([] { return false; }, 40);
    }
    QVERIFY(f.client.waitReplies(1));
    QVERIFY2(timer.elapsed() >= 300, QByteArray::number(timer.elapsed()));
    QCOMPARE(f.client.replies().first().status, 200);
}

void tst_HttpConnection::expectContinue()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    QVERIFY(f.client.waitFor([&] { return f.client.in.size() >= 25; }));
    QCOMPARE(f.client.in, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
    QVERIFY(f.owner.log.isEmpty());
    QVERIFY(f.client.send("hello"));
    QVERIFY(f.client.waitReplies(2));
    QCOMPARE(f.client.replies().at(1).status, 200);
    QCOMPARE(f.client.replies().at(1).body, QByteArray("/echo hello"));
}

// A body above the limit gets its 413 instead of `100 Continue`: the client need not send it.
void tst_HttpConnection::expectContinueRefusedBody()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"));
    QVERIFY(f.client.waitReplies(1));
    QCOMPARE(f.client.replies().first().status, 413);
    QVERIFY(!f.client.in.contains("100 Continue"));
    QVERIFY(f.client.waitClosed());
}

void tst_HttpConnection::keepAliveByDefault()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET /one HTTP/1.1\r\nHost: h\r\n\r\n"));
    QVERIFY(f.client.waitReplies(1));
    QVERIFY(f.client.replies().first().header("connection").isEmpty());
    f.client.waitFor([] { return false; }, 100);
    QVERIFY(!f.client.eof);
    QVERIFY(f.client.send("GET /two HTTP/1.1\r\nHost: h\r\n\r\n"));
    QVERIFY(f.client.waitReplies(2));
    QCOMPARE(f.client.replies().at(1).body, QByteArray("/two "));
}

void tst_HttpConnection::connectionCloseHonoured()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                          "GET /never HTTP/1.1\r\nHost: h\r\n\r\n"));
    QVERIFY(f.client.waitClosed());
    const QList<Reply> replies = f.client.replies();
    QCOMPARE(replies.size(), 1);
    QCOMPARE(replies.first().status, 200);
    QCOMPARE(replies.first().header("connection"), QByteArray("close"));
    QCOMPARE(f.owner.log, QStringList{u"dispatch /last"_s});
    QVERIFY(!f.client.reset);
}

void tst_HttpConnection::http10Closes()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET /old HTTP/1.0\r\n\r\n"));
    QVERIFY(f.client.waitClosed());
    const QList<Reply> replies = f.client.replies();
    QCOMPARE(replies.size(), 1);
    QVERIFY(replies.first().head.startsWith("HTTP/1.1 200 OK\r\n"));
    QCOMPARE(replies.first().header("connection"), QByteArray("close"));
}

// An idle keep-alive connection lasts its idle timeout (longer than the header timeout), then
// closes without a word.
void tst_HttpConnection::idleKeepAliveTimeout()
{
    Fixture f(shortLimits());
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    QVERIFY(f.client.waitReplies(1));
    const QByteArray answered = f.client.in;
    QVERIFY(!f.client.waitClosed(300)); // still open after the header timeout's worth of idling
    QVERIFY(f.client.waitClosed());
    QCOMPARE(f.client.in, answered);
}

// After an error the server ends its side and reads on: a client still sending sees the whole
// answer and an orderly end, never a reset. The lingering lasts lingerMs at most.
void tst_HttpConnection::lingeringCloseAfterAnError()
{
    HttpLimits limits = shortLimits();
    limits.lingerMs = 1000;
    Fixture f(limits);
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET /" + QByteArray(300, 'a')));
    QVERIFY(f.client.waitClosed()); // the server's side is shut
    QElapsedTimer lingering;
    lingering.start();
    QCOMPARE(f.client.replies().size(), 1);
    QCOMPARE(f.client.replies().first().status, 414);
    // The client goes on sending what it had: drained, not answered with a reset.
    QVERIFY(f.client.send(QByteArray(64 * 1024, 'a')));
    f.client.waitFor([] { return false; }, 100);
    QVERIFY(!f.client.reset);
    QVERIFY(f.connection); // still lingering
    QVERIFY(f.waitGone());
    QVERIFY2(lingering.elapsed() >= 800, QByteArray::number(lingering.elapsed()));
}

void tst_HttpConnection::lingeringEndsWhenTheClientCloses()
{
    HttpLimits limits = shortLimits();
    limits.lingerMs = 3000;
    Fixture f(limits);
    QVERIFY(f.open());
    QVERIFY(f.client.send("GET /" + QByteArray(300, 'a')));
    QVERIFY(f.client.waitClosed());
    QElapsedTimer timer;
    timer.start();
    ::shutdown(f.client.fd, SHUT_WR);
    QVERIFY(f.waitGone(2500));
    QVERIFY2(timer.elapsed() < 2500, QByteArray::number(timer.elapsed()));
}

// A route that drops its exchange unanswered: the client gets a 500 rather than waiting.
void tst_HttpConnection::unansweredRequestGets500()
{
    Fixture f(shortLimits());
    f.owner.handler = [](HttpExchange &) {};
    QVERIFY(f.open());
    QTest::ignoreMessage(QtWarningMsg, "a route dropped a request without answering it");
    QVERIFY(f.client.send("GET /lost HTTP/1.1\r\nHost: h\r\n\r\n"));
    QVERIFY(f.client.waitReplies(1));
    const Reply r = f.client.replies().first();
    QCOMPARE(r.status, 500);
    QCOMPARE(errorCode(r), QByteArray("internal_error"));
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QVERIFY(f.client.waitClosed());
}

QTEST_GUILESS_MAIN(tst_HttpConnection)
#include "tst_httpconnection.moc"
