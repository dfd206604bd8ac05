// The test fixture's one-shot HTTP request (tests/shared/asynchttp.h): answered once, status 0
// on a timeout, and destroyed with its context while under way. ~QTcpSocket disconnects and
// emits; the exchange's handler must not run then on its members that are already destroyed
// (UBSan reported a member call on a destroyed QTimer at a delivery model's teardown, which
// failed that test in CI).

#include "asynchttp.h"
#include "testutil.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace Hermes::Test;

class tst_AsyncHttp : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void answeredOnce();
    void timeoutGivesStatusZero();
    void contextDestroyedWhileUnderWay();
};

// Accepts connections; answers each request with `answer` once it has its head (nothing when
// empty). Counts the heads it saw.
class Origin : public QObject
{
public:
    explicit Origin(QByteArray answer) : m_answer(std::move(answer))
    {
        QVERIFY(m_server.listen(QHostAddress::LocalHost));
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            QTcpSocket *peer = m_server.nextPendingConnection();
            connect(peer, &QTcpSocket::readyRead, this, [this, peer] {
                m_seen += peer->readAll();
                if (m_seen.contains("\r\n\r\n")) {
                    ++heads;
                    if (!m_answer.isEmpty())
                        peer->write(m_answer);
                }
            });
        });
    }
    quint16 port() const { return m_server.serverPort(); }
    int heads = 0;

private:
    QTcpServer m_server;
    QByteArray m_answer;
    QByteArray m_seen;
};

void tst_AsyncHttp::answeredOnce()
{
    Origin origin("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    QObject context;
    int calls = 0;
    HttpReply reply;
    httpRequestAsync(&context, origin.port(), "GET", "/x", {}, {}, 5000, [&](const HttpReply &r) {
        ++calls;
        reply = r;
    });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 5000);
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.body, QByteArray("hello"));
    QTest::qWait(100);
    QCOMPARE(calls, 1);
}

void tst_AsyncHttp::timeoutGivesStatusZero()
{
    Origin origin({}); // never answers
    QObject context;
    int calls = 0;
    int status = -1;
    httpRequestAsync(&context, origin.port(), "GET", "/x", {}, {}, 300, [&](const HttpReply &r) {
        ++calls;
        status = r.status;
    });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 5000);
    QCOMPARE(status, 0);
    QCOMPARE(origin.heads, 1);
}

void tst_AsyncHttp::contextDestroyedWhileUnderWay()
{
    Origin origin({}); // never answers: the exchange is connected and waiting
    auto *context = new QObject;
    int calls = 0;
    httpRequestAsync(context, origin.port(), "POST", "/x", {}, "{}", 5000,
                     [&](const HttpReply &) { ++calls; });
    QTRY_COMPARE_WITH_TIMEOUT(origin.heads, 1, 5000);
    delete context; // the exchange goes with it, its socket still connected
    QTest::qWait(200);
    QCOMPARE(calls, 0);
}

QTEST_GUILESS_MAIN(tst_AsyncHttp)
#include "tst_asynchttp.moc"
