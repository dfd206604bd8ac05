// ApiClient::addDownloads: a list in one request against the real hermes-server (all added in
// order, or none with the bad item named), and one by one against a server older than lists
// (scripted: it refuses a body without `url` as invalid_url, as hermes-server did before).

#include "apiclient.h"
#include "scriptedserver.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

class tst_ApiClient : public QObject
{
    Q_OBJECT

private slots:
    void aListIsOneRequestAllOrNone();
    void aLongListGoesInPiecesInOrder();
    void anOlderServerGetsOneRequestEach();

private:
    static std::optional<Result<QJsonObject>> addAll(ApiClient &api, const QList<QJsonObject> &requests)
    {
        std::optional<Result<QJsonObject>> answer;
        api.addDownloads(requests, [&](Result<QJsonObject> r) { answer = std::move(r); });
        if (!QTest::qWaitFor([&] { return answer.has_value(); }, 20000))
            qWarning("no answer");
        return answer;
    }
};

void tst_ApiClient::aListIsOneRequestAllOrNone()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    ApiClient api;
    api.setBaseUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port())));
    api.setApiKey(ServerProcess::ApiKey);
    // Port 1: nothing answers, so the rows stay queued (failing later) in the order given.
    const QList<QJsonObject> good{ApiClient::downloadRequest("http://127.0.0.1:1/a", "a.bin"),
                                  ApiClient::downloadRequest("http://127.0.0.1:1/b", {}, QString(64, u'c'), 5),
                                  ApiClient::downloadRequest("http://127.0.0.1:1/c", {})};
    auto answer = addAll(api, good);
    QVERIFY(answer && *answer);
    const QJsonArray rows = (*answer)->value("downloads").toArray();
    QCOMPARE(rows.size(), 3);
    QCOMPARE(rows[0]["filename"].toString(), QStringLiteral("a.bin"));
    QCOMPARE(rows[1]["priority"].toInt(), 5);
    QCOMPARE(rows[1]["sha256"].toString(), QString(64, u'c'));
    QCOMPARE(rows[2]["url"].toString(), QStringLiteral("http://127.0.0.1:1/c"));

    // One URL over the server's 8 KiB: the list is refused, naming it, and nothing is added.
    QList<QJsonObject> bad = good;
    bad.insert(1, ApiClient::downloadRequest("http://127.0.0.1:1/" + QString(9000, u'x'), {}));
    answer = addAll(api, bad);
    QVERIFY(answer && !*answer);
    QCOMPARE(answer->error().code, QByteArray("field_too_long"));
    QVERIFY2(answer->error().message.startsWith(u"downloads[1]: "), qPrintable(answer->error().message));
    const HttpReply list = httpRequest(server.port(), "GET", "/api/v1/downloads?limit=10",
                                       {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}});
    QCOMPARE(QJsonDocument::fromJson(list.body).object()["total"].toInt(), 3);
}

// 700 URLs of ~100 bytes are ~70 KB: over the server's default body limit (64 KiB) in one
// request, so they go in pieces, one after the other, in order; a bad item in a later piece is
// named by its index over the whole list, with the count of those added before its piece.
void tst_ApiClient::aLongListGoesInPiecesInOrder()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    ApiClient api;
    api.setBaseUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port())));
    api.setApiKey(ServerProcess::ApiKey);
    QList<QJsonObject> many;
    for (int i = 0; i < 700; ++i)
        many.append(ApiClient::downloadRequest(QStringLiteral("http://127.0.0.1:1/%1/%2").arg(QString(60, u'p')).arg(i), {}));
    auto answer = addAll(api, many);
    QVERIFY2(answer && *answer, answer && !*answer ? qPrintable(answer->error().message) : "no answer");
    const QJsonArray rows = (*answer)->value("downloads").toArray();
    QCOMPARE(rows.size(), 700);
    for (int i = 0; i < rows.size(); ++i) {
        QVERIFY(rows[i]["url"].toString().endsWith(QStringLiteral("/%1").arg(i)));
        if (i > 0)
            QCOMPARE(rows[i]["position"].toInteger(), rows[i - 1]["position"].toInteger() + 1);
    }
    many[650] = ApiClient::downloadRequest("http://127.0.0.1:1/" + QString(9000, u'x'), {});
    answer = addAll(api, many);
    QVERIFY(answer && !*answer);
    QVERIFY2(answer->error().message.startsWith(u"downloads[650]: "), qPrintable(answer->error().message));
    QVERIFY2(answer->error().message.contains(u"were added"), qPrintable(answer->error().message));
}

void tst_ApiClient::anOlderServerGetsOneRequestEach()
{
    const QByteArray refused = R"({"error":{"code":"invalid_url","message":"url is required and must be a string"}})";
    ScriptedServer old([&](int n, const QByteArray &) {
        if (n == 0 || n == 3) // the lists
            return ScriptedServer::Response{"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
                                                + QByteArray::number(refused.size()), {refused}, false, true};
        // The second list's second add fails: the one before it stays added.
        if (n == 5)
            return ScriptedServer::status(503, "Retry-After: 1");
        const QByteArray row = "{\"id\":\"id-" + QByteArray::number(n) + "\"}";
        return ScriptedServer::Response{"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: "
                                            + QByteArray::number(row.size()), {row}, false, true};
    });
    ApiClient api;
    api.setBaseUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(old.port())));
    api.setApiKey("k");
    const QList<QJsonObject> two{ApiClient::downloadRequest("http://h/1", "one"), ApiClient::downloadRequest("http://h/2", {})};
    auto answer = addAll(api, two);
    QVERIFY(answer && *answer);
    QCOMPARE((*answer)->value("downloads").toArray().size(), 2);
    QCOMPARE(old.requests().size(), 3);
    QCOMPARE(QJsonDocument::fromJson(old.requestBody(1)).object()["filename"].toString(), QStringLiteral("one"));
    QVERIFY(QJsonDocument::fromJson(old.requestBody(2)).object()["url"].toString() == u"http://h/2");

    answer = addAll(api, two);
    QVERIFY(answer && !*answer);
    QCOMPARE(old.requests().size(), 6);
    QCOMPARE(answer->error().kind, Error::Kind::Unavailable);
    QVERIFY2(answer->error().message.startsWith(u"downloads[1]: "), qPrintable(answer->error().message));
}

QTEST_MAIN(tst_ApiClient)
#include "tst_apiclient.moc"
