// GET /api/v1/queue and GET /api/v1/downloads paged by cursor through the real server: a queue
// of long URLs is cut at about 1 MiB and at `limit` (1,000 unless asked), next_cursor walks every waiting download
// once in queue order, bad paging is 400; and docs/openapi.json names exactly the parameters
// and answer members the server has for these two routes (the drift tst_openapi does not see).

#include "serverprocess.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTcpServer>
#include <QTest>

using namespace Hermes::Test;

namespace {

constexpr int Downloads = 150;
constexpr qsizetype PageBytes = 1 << 20; // DownloadRoutes::ListPageBytes

QJsonObject documented()
{
    QFile f(QStringLiteral(HERMES_SOURCE_DIR "/docs/openapi.json"));
    return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
}

QSet<QString> keysOf(const QJsonObject &o)
{
    const QStringList keys = o.keys();
    return QSet<QString>(keys.cbegin(), keys.cend());
}

QSet<QString> parameterNames(const QJsonObject &operation)
{
    QSet<QString> out;
    for (const QJsonValue &p : operation.value(QStringLiteral("parameters")).toArray())
        out.insert(p.toObject().value(QStringLiteral("name")).toString());
    return out;
}

} // namespace

class tst_QueuePaging : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void queueIsBoundedByBytesAndLimit();
    void cursorWalksEveryWaitingDownloadOnce_data();
    void cursorWalksEveryWaitingDownloadOnce();
    void badPagingIs400();
    void documentNamesWhatTheServerHas();

private:
    HttpReply get(const QByteArray &path)
    {
        return httpRequest(m_server.port(), "GET", path, {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}},
                           {}, 30000);
    }
    QStringList walk(const QByteArray &path, int *pages);

    // Accepts no connection: every transfer waits for an answer, the queue stays unfinished.
    QTcpServer m_origin;
    ServerProcess m_server;
    QStringList m_ids; ///< in queue order (one priority: arrival)
};

void tst_QueuePaging::initTestCase()
{
    QVERIFY(m_origin.listen(QHostAddress::LocalHost));
    m_origin.pauseAccepting();
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS"), QStringLiteral("1"));
    QVERIFY2(m_server.start(env), qPrintable(m_server.errorString()));
    // About 7.5 KiB of URL each: 150 rows are more than one 1 MiB page.
    const QByteArray tail(7400, 'a');
    for (int i = 0; i < Downloads; ++i) {
        const QByteArray body = QJsonDocument(QJsonObject{
            {QStringLiteral("url"), QStringLiteral("http://127.0.0.1:%1/%2/").arg(m_origin.serverPort()).arg(i)
                                        + QString::fromLatin1(tail)}}).toJson(QJsonDocument::Compact);
        const HttpReply r = httpRequest(m_server.port(), "POST", "/api/v1/downloads",
                                        {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey},
                                         {"Content-Type", "application/json"}}, body, 30000);
        QVERIFY2(r.status == 201, r.body.left(200).constData());
        m_ids.append(QJsonDocument::fromJson(r.body).object().value(QStringLiteral("id")).toString());
    }
}

QStringList tst_QueuePaging::walk(const QByteArray &path, int *pages)
{
    QStringList ids;
    QByteArray next;
    *pages = 0;
    for (; *pages < 1000; ++*pages) {
        const HttpReply r = get(path + (next.isEmpty() ? QByteArray() : "&cursor=" + next));
        if (r.status != 200) {
            qWarning("%d %s", r.status, r.body.left(200).constData());
            return {};
        }
        const QJsonObject page = QJsonDocument::fromJson(r.body).object();
        for (const QJsonValue &row : page.value(QStringLiteral("items")).toArray())
            ids.append(row.toObject().value(QStringLiteral("id")).toString());
        const QJsonValue cursor = page.value(QStringLiteral("next_cursor"));
        if (cursor.isNull())
            break;
        next = cursor.toString().toLatin1();
    }
    ++*pages;
    return ids;
}

void tst_QueuePaging::queueIsBoundedByBytesAndLimit()
{
    QCOMPARE(QJsonDocument::fromJson(get("/api/v1/queue").body).object().value(QStringLiteral("limit")).toInt(), 1000);
    const HttpReply all = get("/api/v1/queue?limit=1000");
    QCOMPARE(all.status, 200);
    QVERIFY2(all.body.size() <= PageBytes + 4096, qPrintable(QString::number(all.body.size())));
    const QJsonObject page = QJsonDocument::fromJson(all.body).object();
    const qsizetype items = page.value(QStringLiteral("items")).toArray().size();
    QVERIFY2(items > 100 && items < Downloads, qPrintable(QString::number(items)));
    QVERIFY(page.value(QStringLiteral("next_cursor")).isString());
    QCOMPARE(page.value(QStringLiteral("limit")).toInt(), 1000);
    // The summary counts the whole queue, not the page.
    const QJsonObject summary = page.value(QStringLiteral("summary")).toObject();
    QCOMPARE(summary.value(QStringLiteral("queued")).toInt() + summary.value(QStringLiteral("active")).toInt(),
             Downloads);

    const QJsonObject small = QJsonDocument::fromJson(get("/api/v1/queue?limit=40").body).object();
    QCOMPARE(small.value(QStringLiteral("items")).toArray().size(), 40);
    QCOMPARE(small.value(QStringLiteral("items")).toArray().first().toObject().value(QStringLiteral("id")).toString(),
             m_ids.first());
}

void tst_QueuePaging::cursorWalksEveryWaitingDownloadOnce_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::newRow("queue, 1 MiB pages") << QByteArray("/api/v1/queue?limit=1000");
    QTest::newRow("queue, 7 a page") << QByteArray("/api/v1/queue?limit=7");
    QTest::newRow("list, 1 MiB pages") << QByteArray("/api/v1/downloads?limit=1000");
    QTest::newRow("list, 13 a page") << QByteArray("/api/v1/downloads?limit=13");
}

void tst_QueuePaging::cursorWalksEveryWaitingDownloadOnce()
{
    QFETCH(QByteArray, path);
    int pages = 0;
    const QStringList ids = walk(path, &pages);
    QCOMPARE(ids, m_ids); // once each, in queue order (one priority: order of arrival)
    QVERIFY(pages >= 2);
    qInfo("%lld downloads in %d pages", qlonglong(ids.size()), pages);
}

void tst_QueuePaging::badPagingIs400()
{
    const auto code = [](const HttpReply &r) {
        return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toObject()
            .value(QStringLiteral("code")).toString();
    };
    for (const QByteArray &path : {QByteArray("/api/v1/queue?cursor=nonsense"), QByteArray("/api/v1/downloads?cursor=x"),
                                   QByteArray("/api/v1/queue?cursor=")}) {
        const HttpReply r = get(path);
        QCOMPARE(r.status, 400);
        QCOMPARE(code(r), QStringLiteral("invalid_cursor"));
    }
    const QByteArray cursor = QJsonDocument::fromJson(get("/api/v1/downloads?limit=1").body).object()
                                  .value(QStringLiteral("next_cursor")).toString().toLatin1();
    QVERIFY(!cursor.isEmpty());
    for (const QByteArray &path : {QByteArray("/api/v1/queue?limit=0"), QByteArray("/api/v1/queue?limit=1001"),
                                   "/api/v1/downloads?offset=3&cursor=" + cursor}) {
        const HttpReply r = get(path);
        QCOMPARE(r.status, 400);
        QCOMPARE(code(r), QStringLiteral("invalid_paging"));
    }
    // Offset paging is as it was: offset and next_offset, and next_cursor beside them.
    const QJsonObject page = QJsonDocument::fromJson(get("/api/v1/downloads?limit=10&offset=5").body).object();
    QCOMPARE(page.value(QStringLiteral("offset")).toInt(), 5);
    QCOMPARE(page.value(QStringLiteral("next_offset")).toInt(), 15);
    QCOMPARE(page.value(QStringLiteral("total")).toInt(), Downloads);
    QCOMPARE(page.value(QStringLiteral("items")).toArray().first().toObject().value(QStringLiteral("id")).toString(),
             m_ids.at(5));
}

void tst_QueuePaging::documentNamesWhatTheServerHas()
{
    const QJsonObject doc = documented();
    const QJsonObject paths = doc.value(QStringLiteral("paths")).toObject();
    const QJsonObject list = paths.value(QStringLiteral("/api/v1/downloads")).toObject().value(QStringLiteral("get")).toObject();
    const QJsonObject queue = paths.value(QStringLiteral("/api/v1/queue")).toObject().value(QStringLiteral("get")).toObject();
    // The query parameters each route reads (DownloadRoutes::list, ::queue).
    QCOMPARE(parameterNames(list), (QSet<QString>{QStringLiteral("status"), QStringLiteral("limit"),
                                                   QStringLiteral("offset"), QStringLiteral("cursor")}));
    QCOMPARE(parameterNames(queue), (QSet<QString>{QStringLiteral("limit"), QStringLiteral("cursor")}));
    // The members of real answers, both kinds of list page, against the schemas.
    const QJsonObject listSchema = doc.value(QStringLiteral("components")).toObject().value(QStringLiteral("schemas"))
                                       .toObject().value(QStringLiteral("DownloadList")).toObject();
    const QJsonObject byOffset = QJsonDocument::fromJson(get("/api/v1/downloads?limit=2").body).object();
    const QByteArray cursor = byOffset.value(QStringLiteral("next_cursor")).toString().toLatin1();
    const QJsonObject byCursor = QJsonDocument::fromJson(get("/api/v1/downloads?limit=2&cursor=" + cursor).body).object();
    const QSet<QString> listMembers = keysOf(listSchema.value(QStringLiteral("properties")).toObject());
    QCOMPARE(keysOf(byOffset), listMembers);
    QCOMPARE(keysOf(byCursor), listMembers);
    QVERIFY(byCursor.value(QStringLiteral("offset")).isNull() && byCursor.value(QStringLiteral("next_offset")).isNull()
            && byCursor.value(QStringLiteral("total")).isNull());
    const QJsonObject queueSchema = queue.value(QStringLiteral("responses")).toObject().value(QStringLiteral("200"))
                                        .toObject().value(QStringLiteral("content")).toObject()
                                        .value(QStringLiteral("application/json")).toObject()
                                        .value(QStringLiteral("schema")).toObject();
    QCOMPARE(keysOf(QJsonDocument::fromJson(get("/api/v1/queue?limit=1").body).object()),
             keysOf(queueSchema.value(QStringLiteral("properties")).toObject()));
    QVERIFY(queue.value(QStringLiteral("responses")).toObject().contains(QStringLiteral("400")));
}

QTEST_GUILESS_MAIN(tst_QueuePaging)
#include "tst_queuepaging.moc"
