// The test fixture's SSE client itself: destroyed while its socket is still connected, with a
// partial line in its parser. ~QTcpSocket aborts the connection and emits disconnected; the
// client's handler must not run then on members that are already destroyed (an ASan build
// reports the heap-use-after-free of the parser's buffer if it does).

#include "sseclient.h"
#include "testutil.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace Hermes::Test;

class tst_SseClient : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void destroyedWhileConnected();
};

void tst_SseClient::destroyedWhileConnected()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    QTcpSocket *peer = nullptr;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        peer = server.nextPendingConnection();
        peer->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                    "data: a whole event\n\ndata: a partial line, its event never ends");
    });
    auto *client = new SseClient;
    bool closedSignal = false;
    connect(client, &SseClient::closed, this, [&closedSignal] { closedSignal = true; });
    client->open(server.serverPort(), "/stream");
    QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 1, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(client->rawBody().endsWith("never ends"), 5000);
    QVERIFY(!client->isClosed());
    delete client; // still connected
    // Being destroyed is not the connection ending: nobody is told from a half-destroyed client.
    QVERIFY(!closedSignal);
}

QTEST_GUILESS_MAIN(tst_SseClient)
#include "tst_sseclient.moc"
