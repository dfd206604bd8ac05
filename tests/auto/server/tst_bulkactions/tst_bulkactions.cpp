// POST /api/v1/downloads/actions on the real hermes-server (SQLite), with downloads that keep
// transferring (a trickling file server): by ids and by status, mixed allowed and refused
// changes, unknown ids, bad input, the bounds (count and body), and a seeded random mix of
// bulk and single actions checked against a model of the transition rule after every step.
//
// HERMES_TEST_SEED: the seed (else random, printed); HERMES_TEST_MODEL_OPS: steps (default 40).

#include "downloadapi.h"
#include "fileserver.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;


namespace {

// The model: a waiting or transferring download (the engine moves it between the two on its
// own) is "queued"; the actions the test uses move it between queued, paused and cancelled.
enum class M { Queued, Paused, Cancelled };

M classOf(const QString &status)
{
    if (status == u"paused")
        return M::Paused;
    if (status == u"cancelled")
        return M::Cancelled;
    return M::Queued;
}

// The transition rule as the README states it, written out independently of DownloadRules.
std::optional<M> modelAfter(M from, const QString &action)
{
    if (action == u"pause" && from == M::Queued)
        return M::Paused;
    if (action == u"resume" && from == M::Paused)
        return M::Queued;
    if (action == u"cancel" && from != M::Cancelled)
        return M::Cancelled;
    if (action == u"retry" && from == M::Cancelled)
        return M::Queued;
    if (action == u"priority" && from != M::Cancelled)
        return from;
    return std::nullopt;
}

using DownloadApi::json;

QStringList sortedStrings(const QJsonArray &a)
{
    QStringList out;
    for (const QJsonValue &v : a)
        out.append(v.toString());
    out.sort();
    return out;
}

} // namespace

class tst_BulkActions : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void byIdsAndByStatus();
    void eachChangeIsAnnouncedOnTheStream();
    void refusedAndUnknownAreSkipped();
    void badInputAndBounds();
    void randomMixMatchesTheModel();

private:
    bool startServer(const QProcessEnvironment &extra = {});
    HttpReply api(const QByteArray &method, const QByteArray &path, const QByteArray &body = {})
    {
        return DownloadApi::call(*m_server, method, path, body);
    }
    HttpReply bulk(const QJsonObject &request);
    QStringList addDownloads(int n);
    QHash<QString, QJsonObject> rows();

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<FileServer> m_files;
};

void tst_BulkActions::init()
{
    m_files = std::make_unique<FileServer>();
    // Never finishes within a test: every download stays waiting or transferring.
    FileServer::File trickle(FileServer::makeContent(4 << 20));
    trickle.bytesPerSecond = 2000;
    m_files->addFile("/slow", trickle);
    m_server = std::make_unique<ServerProcess>();
}

void tst_BulkActions::cleanup()
{
    m_server.reset();
    m_files.reset();
}

bool tst_BulkActions::startServer(const QProcessEnvironment &extra)
{
    QProcessEnvironment env = extra;
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    env.insert(QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS"), QStringLiteral("3"));
    if (!m_server->start(env)) {
        qWarning() << m_server->errorString();
        return false;
    }
    return true;
}

HttpReply tst_BulkActions::bulk(const QJsonObject &request)
{
    return api("POST", "/api/v1/downloads/actions", QJsonDocument(request).toJson(QJsonDocument::Compact));
}

QStringList tst_BulkActions::addDownloads(int n)
{
    QStringList ids;
    for (int i = 0; i < n; ++i) {
        const HttpReply r = api("POST", "/api/v1/downloads",
                                QJsonDocument(QJsonObject{{"url", m_files->url("/slow")},
                                                          {"filename", QStringLiteral("f%1").arg(i)}})
                                    .toJson(QJsonDocument::Compact));
        if (r.status != 201)
            qWarning() << "add failed" << r.status << r.body;
        ids.append(json(r.body).value(QStringLiteral("id")).toString());
    }
    return ids;
}

QHash<QString, QJsonObject> tst_BulkActions::rows()
{
    QHash<QString, QJsonObject> out;
    const HttpReply r = api("GET", "/api/v1/downloads?limit=1000");
    for (const QJsonValue &v : json(r.body).value(QStringLiteral("items")).toArray())
        out.insert(v[QStringLiteral("id")].toString(), v.toObject());
    return out;
}

void tst_BulkActions::byIdsAndByStatus()
{
    QVERIFY(startServer());
    const QStringList ids = addDownloads(6);
    // By ids: two of them.
    HttpReply r = bulk({{"action", "pause"}, {"ids", QJsonArray{ids[0], ids[1], ids[1]}}});
    QCOMPARE(r.status, 200);
    QJsonObject answer = json(r.body);
    QCOMPARE(sortedStrings(answer["changed"].toArray()), (ids[0] < ids[1] ? QStringList{ids[0], ids[1]} : QStringList{ids[1], ids[0]}));
    QVERIFY(answer["skipped"].toArray().isEmpty());
    QCOMPARE(answer["more"].toBool(), false);
    auto now = rows();
    QCOMPARE(now[ids[0]]["status"].toString(), QStringLiteral("paused"));
    QCOMPARE(now[ids[1]]["status"].toString(), QStringLiteral("paused"));
    QVERIFY(now[ids[2]]["status"].toString() != u"paused");

    // By status: every download the pause applies to (what Pause All sends).
    r = bulk({{"action", "pause"}, {"status", QJsonArray{"pending", "downloading"}}});
    QCOMPARE(r.status, 200);
    QCOMPARE(json(r.body)["changed"].toArray().size(), 4);
    for (const QJsonObject &row : rows())
        QCOMPARE(row["status"].toString(), QStringLiteral("paused"));
    // One status as a string; priorities by status.
    r = bulk({{"action", "priority"}, {"priority", 7}, {"status", "paused"}});
    QCOMPARE(r.status, 200);
    QCOMPARE(json(r.body)["changed"].toArray().size(), 6);
    for (const QJsonObject &row : rows())
        QCOMPARE(row["priority"].toInt(), 7);
    r = bulk({{"action", "resume"}, {"status", "paused"}});
    QCOMPARE(json(r.body)["changed"].toArray().size(), 6);
    for (const QJsonObject &row : rows())
        QVERIFY(row["status"].toString() == u"pending" || row["status"].toString() == u"downloading");
}

// What a client of /api/v1/events/stream sees of a bulk pause by ids: each download it changed
// gets the events a single pause gives (the same kinds, once each: a queue_update status_changed
// and a download_progress, both `paused`), and a skipped one — already paused, cancelled,
// unknown — none. A single pause after the bulk one marks the end: the stream is in order, so
// everything the bulk call published has arrived before the marker's events.
void tst_BulkActions::eachChangeIsAnnouncedOnTheStream()
{
    QVERIFY(startServer());
    const QStringList ids = addDownloads(6);
    SseClient stream;
    stream.open(m_server->port(), "/api/v1/events/stream",
                {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}});
    QTRY_VERIFY_WITH_TIMEOUT(!stream.nonHeartbeatEvents().isEmpty(), 10000); // connected
    // The event kinds that name `id` among the events from `from` on that say `paused` or
    // `cancelled` (what the engine says of a running download — it starts, it progresses — is
    // left out).
    const auto kindsOf = [&](const QString &id, qsizetype from) {
        QStringList out;
        const QList<SseParser::Event> events = stream.nonHeartbeatEvents();
        for (qsizetype i = from; i < events.size(); ++i) {
            const QJsonObject envelope = json(events[i].data.toUtf8());
            const QJsonObject data = envelope["data"].toObject();
            if (data["download_id"].toString() != id)
                continue;
            const QString type = envelope["type"].toString();
            const QString status = data["status"].toString();
            if (status != u"paused" && status != u"cancelled")
                continue;
            out.append(type == u"queue_update" ? type + u' ' + data["action"].toString() + u' ' + status
                                               : type + u' ' + status);
        }
        out.sort();
        return out;
    };
    const QStringList pausedKinds{"download_progress paused", "queue_update status_changed paused"};
    QCOMPARE(api("POST", "/api/v1/downloads/" + ids[3].toUtf8() + "/pause").status, 200);
    QCOMPARE(api("POST", "/api/v1/downloads/" + ids[4].toUtf8() + "/cancel").status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(kindsOf(ids[4], 0),
                              (QStringList{"download_progress cancelled", "queue_update status_changed cancelled"}), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(kindsOf(ids[3], 0), pausedKinds, 10000);
    const qsizetype from = stream.nonHeartbeatEvents().size();

    const HttpReply r = bulk({{"action", "pause"}, {"ids", QJsonArray{ids[0], ids[1], ids[2], ids[3], ids[4], "no-such-id"}}});
    QCOMPARE(r.status, 200);
    const QJsonObject answer = json(r.body);
    QStringList changed{ids[0], ids[1], ids[2]};
    changed.sort();
    QCOMPARE(sortedStrings(answer["changed"].toArray()), changed);
    QCOMPARE(answer["skipped"].toArray().size(), 3);
    // The marker: a single pause, and what it gives.
    QCOMPARE(api("POST", "/api/v1/downloads/" + ids[5].toUtf8() + "/pause").status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(kindsOf(ids[5], from), pausedKinds, 10000);

    for (const QString &id : std::as_const(changed))
        QCOMPARE(kindsOf(id, from), pausedKinds);
    for (const QString &id : {ids[3], ids[4], QStringLiteral("no-such-id")})
        QVERIFY2(kindsOf(id, from).isEmpty(), qPrintable(id + QStringLiteral(": ") + kindsOf(id, from).join(QStringLiteral(", "))));
    // Nothing else named the skipped ones either (not even engine progress: they do not run).
    for (const SseParser::Event &e : stream.nonHeartbeatEvents().mid(from)) {
        const QString id = json(e.data.toUtf8())["data"].toObject()["download_id"].toString();
        QVERIFY2(id != ids[3] && id != ids[4] && id != u"no-such-id", qPrintable(e.data));
    }
}

void tst_BulkActions::refusedAndUnknownAreSkipped()
{
    QVERIFY(startServer());
    const QStringList ids = addDownloads(4);
    QCOMPARE(api("POST", "/api/v1/downloads/" + ids[0].toUtf8() + "/cancel").status, 200);
    QCOMPARE(api("POST", "/api/v1/downloads/" + ids[1].toUtf8() + "/pause").status, 200);
    const HttpReply r = bulk({{"action", "resume"}, {"ids", QJsonArray{ids[0], ids[1], ids[2], "no-such-id"}}});
    QCOMPARE(r.status, 200);
    const QJsonObject answer = json(r.body);
    QCOMPARE(sortedStrings(answer["changed"].toArray()), QStringList{ids[1]});
    QHash<QString, QJsonObject> skipped;
    for (const QJsonValue &v : answer["skipped"].toArray())
        skipped.insert(v["id"].toString(), v.toObject());
    QCOMPARE(skipped.size(), 3);
    QCOMPARE(skipped["no-such-id"]["reason"].toString(), QStringLiteral("not_found"));
    QVERIFY(!skipped["no-such-id"].contains("status"));
    QCOMPARE(skipped[ids[0]]["reason"].toString(), QStringLiteral("invalid_state"));
    QCOMPARE(skipped[ids[0]]["status"].toString(), QStringLiteral("cancelled"));
    QCOMPARE(skipped[ids[2]]["reason"].toString(), QStringLiteral("invalid_state"));
    // The refused rows are as they were; the allowed one changed (the same transaction).
    const auto now = rows();
    QCOMPARE(now[ids[0]]["status"].toString(), QStringLiteral("cancelled"));
    QVERIFY(now[ids[1]]["status"].toString() != u"paused");
    // Retry of the cancelled one by status; the others are not cancelled and stay.
    const QJsonObject retried = json(bulk({{"action", "retry"}, {"status", "cancelled"}}).body);
    QCOMPARE(sortedStrings(retried["changed"].toArray()), QStringList{ids[0]});
}

void tst_BulkActions::badInputAndBounds()
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_HTTP_MAX_BODY_SIZE"), QStringLiteral("1048576"));
    QVERIFY(startServer(env));
    const auto code = [](const HttpReply &r) { return json(r.body)[QStringLiteral("error")][QStringLiteral("code")].toString(); };
    HttpReply r = bulk({{"action", "explode"}, {"ids", QJsonArray{}}});
    QCOMPARE(r.status, 400);
    QCOMPARE(code(r), QStringLiteral("invalid_action"));
    r = bulk({{"action", "pause"}});
    QCOMPARE(code(r), QStringLiteral("invalid_selection"));
    r = bulk({{"action", "pause"}, {"ids", QJsonArray{}}, {"status", "paused"}});
    QCOMPARE(code(r), QStringLiteral("invalid_selection"));
    r = bulk({{"action", "pause"}, {"ids", "abc"}});
    QCOMPARE(code(r), QStringLiteral("invalid_ids"));
    r = bulk({{"action", "pause"}, {"ids", QJsonArray{1, 2}}});
    QCOMPARE(code(r), QStringLiteral("invalid_ids"));
    r = bulk({{"action", "pause"}, {"status", QJsonArray{"pending", "sleeping"}}});
    QCOMPARE(r.status, 400);
    QCOMPARE(code(r), QStringLiteral("invalid_status"));
    r = bulk({{"action", "priority"}, {"priority", 1.5}, {"status", "pending"}});
    QCOMPARE(code(r), QStringLiteral("invalid_priority"));
    r = api("POST", "/api/v1/downloads/actions", "{not json");
    QCOMPARE(r.status, 400);
    r = httpRequest(m_server->port(), "POST", "/api/v1/downloads/actions", {}, "{}");
    QCOMPARE(r.status, 401);
    // An empty list changes nothing.
    r = bulk({{"action", "pause"}, {"ids", QJsonArray{}}});
    QCOMPARE(r.status, 200);
    QVERIFY(json(r.body)["changed"].toArray().isEmpty());

    // Too many ids: 413 before anything is looked up.
    QJsonArray many;
    for (int i = 0; i <= 10000; ++i)
        many.append(QStringLiteral("id-%1").arg(i));
    r = bulk({{"action", "pause"}, {"ids", many}});
    QCOMPARE(r.status, 413);
    QCOMPARE(code(r), QStringLiteral("too_many_ids"));
    // Exactly the bound: answered (every id unknown).
    many.removeLast();
    r = bulk({{"action", "cancel"}, {"ids", many}});
    QCOMPARE(r.status, 200);
    QCOMPARE(json(r.body)["skipped"].toArray().size(), 10000);
}

void tst_BulkActions::randomMixMatchesTheModel()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    const int steps = qEnvironmentVariableIsSet("HERMES_TEST_MODEL_OPS") ? qEnvironmentVariableIntValue("HERMES_TEST_MODEL_OPS") : 40;
    qInfo() << "seed" << seed << "(HERMES_TEST_SEED)";
    QRandomGenerator random(seed);
    QVERIFY(startServer());
    const QStringList ids = addDownloads(24);
    QHash<QString, M> model;
    QHash<QString, int> priority;
    for (const QString &id : ids) {
        model.insert(id, M::Queued);
        priority.insert(id, 0);
    }
    static const QStringList actions{"pause", "resume", "cancel", "retry", "priority"};
    QStringList trail;
    for (int step = 0; step < steps; ++step) {
        const QString action = actions.at(random.bounded(actions.size()));
        const int p = random.bounded(-5, 6);
        const int kind = random.bounded(3); // 0: one download, 1: by ids, 2: by status
        QString what = action;
        QSet<QString> expectChanged, expectSkipped;
        if (kind == 0) {
            const QString id = ids.at(random.bounded(ids.size()));
            what += u' ' + id.left(4);
            const std::optional<M> next = modelAfter(model[id], action);
            const HttpReply r = action == u"priority"
                ? api("POST", "/api/v1/downloads/" + id.toUtf8() + "/priority",
                      QJsonDocument(QJsonObject{{"priority", p}}).toJson(QJsonDocument::Compact))
                : api("POST", "/api/v1/downloads/" + id.toUtf8() + '/' + action.toUtf8());
            QVERIFY2(r.status == (next ? 200 : 409), qPrintable(QStringLiteral("seed %1 step %2 (%3): %4")
                                                                 .arg(seed).arg(step).arg(what).arg(r.status)));
            if (next) {
                model[id] = *next;
                if (action == u"priority")
                    priority[id] = p;
            }
        } else {
            QJsonObject request{{"action", action}};
            if (action == u"priority")
                request.insert("priority", p);
            QStringList chosen;
            if (kind == 1) {
                for (const QString &id : ids) {
                    if (random.bounded(3) == 0)
                        chosen.append(id);
                }
                if (random.bounded(4) == 0)
                    chosen.append(QStringLiteral("gone-%1").arg(step));
                request.insert("ids", QJsonArray::fromStringList(chosen));
                what += QStringLiteral(" %1 ids").arg(chosen.size());
            } else {
                // The wire statuses of one or two model classes.
                QJsonArray statuses;
                const QList<QStringList> classes{{"pending", "downloading"}, {"paused"}, {"cancelled"}};
                const int a = random.bounded(3), b = random.bounded(3);
                for (int c : {a, b}) {
                    for (const QString &s : classes[c])
                        statuses.append(s);
                }
                request.insert("status", statuses);
                for (const QString &id : ids) {
                    if (int(model[id]) == a || int(model[id]) == b)
                        chosen.append(id);
                }
                what += QStringLiteral(" by status %1,%2").arg(a).arg(b);
            }
            for (const QString &id : std::as_const(chosen)) {
                if (!model.contains(id))
                    expectSkipped.insert(id);
                else if (modelAfter(model[id], action))
                    expectChanged.insert(id);
                else
                    expectSkipped.insert(id);
            }
            const HttpReply r = bulk(request);
            QVERIFY2(r.status == 200, qPrintable(QStringLiteral("seed %1 step %2 (%3): %4 %5")
                                                     .arg(seed).arg(step).arg(what).arg(r.status).arg(QString::fromUtf8(r.body))));
            const QJsonObject answer = json(r.body);
            const QStringList changed = sortedStrings(answer["changed"].toArray());
            QSet<QString> skipped;
            for (const QJsonValue &v : answer["skipped"].toArray())
                skipped.insert(v["id"].toString());
            QVERIFY2(QSet<QString>(changed.cbegin(), changed.cend()) == expectChanged && skipped == expectSkipped,
                     qPrintable(QStringLiteral("seed %1 step %2 (%3): %4").arg(seed).arg(step).arg(what, QString::fromUtf8(r.body))));
            for (const QString &id : changed) {
                model[id] = *modelAfter(model[id], action);
                if (action == u"priority")
                    priority[id] = p;
            }
        }
        trail.append(what);
        // The server's rows are the model's, after each step.
        const auto now = rows();
        for (const QString &id : ids) {
            QVERIFY2(classOf(now[id]["status"].toString()) == model[id] && now[id]["priority"].toInt() == priority[id],
                     qPrintable(QStringLiteral("seed %1 step %2: %3 is %4 (priority %5); after %6")
                                    .arg(seed).arg(step).arg(id, now[id]["status"].toString())
                                    .arg(now[id]["priority"].toInt()).arg(trail.join(u", "))));
        }
    }
}

QTEST_MAIN(tst_BulkActions)
#include "tst_bulkactions.moc"
