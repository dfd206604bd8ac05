// POST /api/v1/downloads with {"downloads": [...]} on the real hermes-server (SQLite): a list
// added in one transaction, all or none. A seeded random run of lists, some with one or more
// bad items at random places, is checked after every request against a model: a good list
// comes back whole and in order (consecutive queue positions, the fields asked for) with one
// queue_update "added" per item on the stream; a list with a bad item is refused with the
// first bad item's code and index, and adds nothing. Plus the bounds and the body's shape.
//
// HERMES_TEST_SEED: the seed (else random, printed); HERMES_TEST_MODEL_OPS: lists (default 30).

#include "downloadapi.h"
#include "fileserver.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;
using DownloadApi::json;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

class tst_BatchAdd : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void shapeAndBounds();
    void randomListsMatchTheModel();

private:
    bool startServer();
    HttpReply post(const QJsonObject &body)
    {
        return DownloadApi::call(*m_server, "POST", "/api/v1/downloads", QJsonDocument(body).toJson(QJsonDocument::Compact));
    }
    qint64 total()
    {
        return json(DownloadApi::call(*m_server, "GET", "/api/v1/downloads?limit=1").body).value(QStringLiteral("total")).toInteger(-1);
    }

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<FileServer> m_files;
};

void tst_BatchAdd::init()
{
    m_files = std::make_unique<FileServer>();
    // Never finishes within the test: rows keep their place in the queue.
    FileServer::File trickle(FileServer::makeContent(4 << 20));
    trickle.bytesPerSecond = 1000;
    m_files->addFile("/slow", trickle);
    m_server = std::make_unique<ServerProcess>();
}

void tst_BatchAdd::cleanup()
{
    m_server.reset();
    m_files.reset();
}

bool tst_BatchAdd::startServer()
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    env.insert(QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS"), QStringLiteral("1"));
    if (!m_server->start(env)) {
        qWarning() << m_server->errorString();
        return false;
    }
    return true;
}

void tst_BatchAdd::shapeAndBounds()
{
    QVERIFY(startServer());
    const QJsonObject good{{"url", m_files->url("/slow")}};
    auto expect = [&](const QJsonObject &body, int status, const char *code) {
        const HttpReply r = post(body);
        QCOMPARE(r.status, status);
        QCOMPARE(json(r.body).value("error").toObject().value("code").toString(), QString::fromLatin1(code));
    };
    expect({{"downloads", QJsonArray{}}}, 400, "invalid_downloads");
    expect({{"downloads", good}}, 400, "invalid_downloads");
    expect({{"downloads", QJsonArray{good, 3}}}, 400, "invalid_downloads");
    expect({{"downloads", QJsonArray{good}}, {"url", m_files->url("/slow")}}, 400, "invalid_downloads");
    QJsonArray tooMany;
    for (int i = 0; i < 1001; ++i)
        tooMany.append(QJsonObject{{"url", "http://h/"}});
    expect({{"downloads", tooMany}}, 400, "invalid_downloads");
    QCOMPARE(total(), 0);

    // 1,000 in one request, in one transaction (the body's limit is the server's, 64 KiB:
    // short URLs).
    QJsonArray thousand;
    for (int i = 0; i < 1000; ++i)
        thousand.append(QJsonObject{{"url", QStringLiteral("http://127.0.0.1:1/%1").arg(i)}});
    const HttpReply r = post({{"downloads", thousand}});
    QCOMPARE(r.status, 201);
    const QJsonArray rows = json(r.body)["downloads"].toArray();
    QCOMPARE(rows.size(), 1000);
    for (int i = 0; i < rows.size(); ++i)
        QCOMPARE(rows[i]["url"].toString(), QStringLiteral("http://127.0.0.1:1/%1").arg(i));
    QCOMPARE(total(), 1000);
    // A single download's body is answered as before: the row itself, with Location.
    const HttpReply one = post(good);
    QCOMPARE(one.status, 201);
    QVERIFY(!json(one.body)["id"].toString().isEmpty());
}

void tst_BatchAdd::randomListsMatchTheModel()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo() << "seed" << seed << "(HERMES_TEST_SEED)";
    QRandomGenerator rng(seed);
    auto onFailure = qScopeGuard([seed] { qWarning("tst_batchadd: seed %u (HERMES_TEST_SEED=%u to repeat)", seed, seed); });
    const int lists = qEnvironmentVariableIntValue("HERMES_TEST_MODEL_OPS") > 0
        ? qEnvironmentVariableIntValue("HERMES_TEST_MODEL_OPS") : 30;
    QVERIFY(startServer());
    SseClient events;
    events.open(m_server->port(), "/api/v1/events/queue", {{"Authorization", Auth}});
    QTRY_COMPARE_WITH_TIMEOUT(events.status(), 200, 10000);

    // A bad item of each kind, with the code it must get.
    const QList<QPair<QJsonValue, QString>> bad{
        {QJsonObject{{"url", "ftp://h/x"}}, "invalid_url"},
        {QJsonObject{{"filename", "x"}}, "invalid_url"},
        {QJsonObject{{"url", m_files->url("/slow")}, {"filename", 7}}, "invalid_filename"},
        {QJsonObject{{"url", m_files->url("/slow")}, {"filename", "x.part"}}, "invalid_filename"},
        {QJsonObject{{"url", m_files->url("/slow")}, {"priority", 1001}}, "invalid_priority"},
        {QJsonObject{{"url", m_files->url("/slow")}, {"priority", 1.5}}, "invalid_priority"},
        {QJsonObject{{"url", m_files->url("/slow")}, {"sha256", "zz"}}, "invalid_sha256"},
        {QJsonObject{{"url", m_files->url("/slow?") + QString(9000, u'a')}}, "field_too_long"},
        {QJsonValue("http://h/"), "invalid_downloads"},
    };
    qint64 expected = 0;
    QHash<QString, int> addedIds;
    for (int round = 0; round < lists; ++round) {
        const int n = 1 + rng.bounded(25);
        QJsonArray items;
        int firstBad = -1;
        QString badCode;
        for (int i = 0; i < n; ++i) {
            if (rng.bounded(100) < 4) {
                const auto &b = bad.at(rng.bounded(int(bad.size())));
                items.append(b.first);
                if (firstBad < 0) {
                    firstBad = i;
                    badCode = b.second;
                }
                continue;
            }
            QJsonObject item{{"url", m_files->url("/slow")}};
            if (rng.bounded(2))
                item["filename"] = QStringLiteral("r%1-i%2.bin").arg(round).arg(i);
            if (rng.bounded(2))
                item["priority"] = int(rng.bounded(2001)) - 1000;
            if (rng.bounded(3) == 0) {
                QByteArray sha;
                for (int k = 0; k < 64; ++k)
                    sha += "0123456789abcdefABCDEF"[rng.bounded(22)];
                item["sha256"] = QString::fromLatin1(sha);
            }
            items.append(item);
        }
        const HttpReply r = post({{"downloads", items}});
        if (firstBad >= 0) {
            QCOMPARE(r.status, 400);
            const QJsonObject error = json(r.body).value("error").toObject();
            QCOMPARE(error["code"].toString(), badCode);
            QVERIFY2(error["message"].toString().startsWith(QStringLiteral("downloads[%1]").arg(firstBad)),
                     qPrintable(error["message"].toString()));
        } else {
            QCOMPARE(r.status, 201);
            const QJsonArray rows = json(r.body)["downloads"].toArray();
            QCOMPARE(rows.size(), n);
            for (int i = 0; i < n; ++i) {
                const QJsonObject asked = items[i].toObject();
                const QJsonObject row = rows[i].toObject();
                if (asked.contains("filename"))
                    QCOMPARE(row["filename"].toString(), asked["filename"].toString());
                QCOMPARE(row["priority"].toInt(), asked["priority"].toInt(0));
                QCOMPARE(row["sha256"].toString(), asked["sha256"].toString().toLower());
                if (i > 0)
                    QCOMPARE(row["position"].toInteger(), rows[i - 1]["position"].toInteger() + 1);
                const QString id = row["id"].toString();
                QVERIFY(!id.isEmpty() && !addedIds.contains(id));
                addedIds.insert(id, 0);
            }
            expected += n;
        }
        QCOMPARE(total(), expected);
    }
    // One "added" per saved download, none for a refused list.
    auto added = [&] {
        QHash<QString, int> seen;
        for (const auto &e : events.events()) {
            const QJsonObject env = json(e.data.toUtf8());
            const QJsonObject data = env["data"].toObject();
            if (env["type"].toString() == u"queue_update" && data["action"].toString() == u"added")
                ++seen[data["download_id"].toString()];
        }
        return seen;
    };
    QTRY_COMPARE_WITH_TIMEOUT(added().size(), addedIds.size(), 10000);
    for (auto it = addedIds.cbegin(); it != addedIds.cend(); ++it)
        QCOMPARE(added().value(it.key()), 1);
    onFailure.dismiss();
}

QTEST_MAIN(tst_BatchAdd)
#include "tst_batchadd.moc"
