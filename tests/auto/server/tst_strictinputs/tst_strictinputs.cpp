// Strict inputs (issue 24), a hostile client's view of the real hermes-server: whole-string
// patterns (a trailing LF is refused on every route that validates a pattern), one spelling per
// stream token, and JSON bodies nested at most 64 deep on every route that takes one.
//
// Measured before: publish type "evt\n" → 202, a SHA-256 with a trailing LF → 201 (it could
// never match), every token had 4 other accepted spellings, and bodies nested up to 1,024 deep
// were accepted although the Python subscribers fail on such events.

#include "json.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

QByteArray errorCode(const HttpReply &reply)
{
    return QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("error")).toObject()
        .value(QStringLiteral("code")).toString().toUtf8();
}

/// `depth` nested arrays around a number: `[[[1]]]` is 3.
QByteArray arrays(int depth)
{
    return QByteArray(depth, '[') + '1' + QByteArray(depth, ']');
}

} // namespace

class tst_StrictInputs : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void depthScan_data();
    void depthScan();
    void trailingNewlineRefused_data();
    void trailingNewlineRefused();
    void nestingCappedOnEveryBody_data();
    void nestingCappedOnEveryBody();
    void tokenRespellingsRefused();

private:
    HttpReply post(const QByteArray &path, const QByteArray &body)
    {
        return httpRequest(m_server.port(), "POST", path,
                           {{"Authorization", Auth}, {"Content-Type", "application/json"}}, body);
    }
    ServerProcess m_server;
};

void tst_StrictInputs::initTestCase()
{
    QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
}

void tst_StrictInputs::cleanupTestCase()
{
    QCOMPARE(m_server.terminate(), 0);
}

void tst_StrictInputs::depthScan_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("depth"); // the nesting the scan must see
    QTest::newRow("scalar") << QByteArray("1") << 0;
    QTest::newRow("empty object") << QByteArray("{}") << 1;
    QTest::newRow("siblings") << QByteArray("[[1],[2],{\"a\":[3]}]") << 3;
    QTest::newRow("64") << arrays(64) << 64;
    QTest::newRow("65") << arrays(65) << 65;
    QTest::newRow("1000") << arrays(1000) << 1000;
    // Brackets inside strings, with escaped quotes and backslashes, are text.
    QTest::newRow("brackets in a string") << QByteArray(R"({"a":"[[[[{{{{\"[[[\\"})") << 1;
    QTest::newRow("escaped backslash ends the string")
        << QByteArray(R"({"a":"\\",  "b":[[1]]})") << 3;
    QTest::newRow("object in array") << QByteArray(R"([{"a":{"b":[]}}])") << 4;
}

void tst_StrictInputs::depthScan()
{
    QFETCH(QByteArray, json);
    QFETCH(int, depth);
    QVERIFY(Json::depthWithin(json, depth));
    if (depth > 0)
        QVERIFY(!Json::depthWithin(json, depth - 1));
    QCOMPARE(Json::depthWithin(json), depth <= Json::MaxDepth);
}

void tst_StrictInputs::trailingNewlineRefused_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("good");    // a body the pattern accepts
    QTest::addColumn<int>("goodStatus");
    QTest::addColumn<QByteArray>("bad");     // the same with a trailing LF in the value
    QTest::addColumn<QByteArray>("badCode");
    const QByteArray sha(64, 'a');
    QTest::newRow("publish type") << QByteArray("/api/v1/events/publish")
        << QByteArray(R"({"channel":"system:notifications","type":"evt","data":{}})") << 202
        << QByteArray(R"({"channel":"system:notifications","type":"evt\n","data":{}})")
        << QByteArray("invalid_type");
    QTest::newRow("publish type CRLF") << QByteArray("/api/v1/events/publish")
        << QByteArray(R"({"channel":"system:notifications","type":"evt","data":{}})") << 202
        << QByteArray(R"({"channel":"system:notifications","type":"evt\r\n","data":{}})")
        << QByteArray("invalid_type");
    QTest::newRow("token scope id") << QByteArray("/api/v1/events/token")
        << QByteArray(R"({"scope":"download:abc"})") << 200
        << QByteArray(R"({"scope":"download:abc\n"})") << QByteArray("invalid_scope");
    QTest::newRow("download sha256") << QByteArray("/api/v1/downloads")
        << QByteArray(R"({"url":"http://127.0.0.1:9/a","sha256":")" + sha + R"("})") << 201
        << QByteArray(R"({"url":"http://127.0.0.1:9/b","sha256":")" + sha + R"(\n"})")
        << QByteArray("invalid_sha256");
}

void tst_StrictInputs::trailingNewlineRefused()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, good);
    QFETCH(int, goodStatus);
    QFETCH(QByteArray, bad);
    QFETCH(QByteArray, badCode);
    QCOMPARE(post(path, good).status, goodStatus);
    const HttpReply r = post(path, bad);
    QCOMPARE(r.status, 400);
    QCOMPARE(errorCode(r), badCode);
}

void tst_StrictInputs::nestingCappedOnEveryBody_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("prefix"); // the body up to the nested member
    QTest::addColumn<int>("around");        // objects around that member (the body is one)
    QTest::addColumn<int>("okStatus");      // of a body exactly 64 deep
    QTest::newRow("publish") << QByteArray("/api/v1/events/publish")
        << QByteArray(R"({"channel":"system:notifications","type":"deep","data":{"n":)") << 2 << 202;
    QTest::newRow("token") << QByteArray("/api/v1/events/token")
        << QByteArray(R"({"scope":"stream","n":)") << 1 << 200;
    QTest::newRow("download") << QByteArray("/api/v1/downloads")
        << QByteArray(R"({"url":"http://127.0.0.1:9/deep","n":)") << 1 << 201;
    // No such download: the body is read first, so the depth is what answers.
    QTest::newRow("priority") << QByteArray("/api/v1/downloads/no-such-id/priority")
        << QByteArray(R"({"priority":1,"n":)") << 1 << 404;
}

void tst_StrictInputs::nestingCappedOnEveryBody()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, prefix);
    QFETCH(int, around);
    QFETCH(int, okStatus);
    const auto body = [&](int depth) {
        return prefix + arrays(depth - around) + QByteArray(around, '}');
    };
    QVERIFY(Json::depthWithin(body(64)) && !Json::depthWithin(body(65)));
    QCOMPARE(post(path, body(64)).status, okStatus);
    for (int depth : {65, 1000, 5000}) {
        const HttpReply r = post(path, body(depth));
        QCOMPARE(r.status, 400);
        QCOMPARE(errorCode(r), QByteArray("json_too_deep"));
    }
}

void tst_StrictInputs::tokenRespellingsRefused()
{
    // Minted by the server; its signature's last character carries 2 unused bits. Each other
    // value of them, and `=` padding, spell the same bytes: all refused, the token itself not.
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo() << "seed" << seed;
    QRandomGenerator random(seed);
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int round = 0; round < 3; ++round) {
        const HttpReply minted = post("/api/v1/events/token", R"({"scope":"stream"})");
        QCOMPARE(minted.status, 200);
        const QByteArray token = QJsonDocument::fromJson(minted.body).object()
                                     .value(QStringLiteral("token")).toString().toUtf8();
        const int last = int(strchr(alphabet, token.back()) - alphabet);
        QList<QByteArray> others{token + '='};
        for (int low = 0; low < 4; ++low) {
            if ((last & ~3) + low != last)
                others.append(token.chopped(1) + alphabet[(last & ~3) + low]);
        }
        QCOMPARE(others.size(), 4);
        const QByteArray other = others.at(random.bounded(int(others.size())));
        const HttpReply r = httpRequest(m_server.port(), "GET", "/api/v1/events/stream?token=" + other);
        QCOMPARE(r.status, 401);
        QCOMPARE(errorCode(r), QByteArray("invalid_token"));
        SseClient stream;
        stream.open(m_server.port(), "/api/v1/events/stream?token=" + token);
        QTRY_VERIFY_WITH_TIMEOUT(stream.status() != 0, 10000);
        QCOMPARE(stream.status(), 200);
    }
}

QTEST_MAIN(tst_StrictInputs)
#include "tst_strictinputs.moc"
