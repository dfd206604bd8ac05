// The phases a download shows within its status (DownloadPhase: the `phase`, `attempt`,
// `max_attempts` and `next_attempt_at` of download_progress and of the REST download), by
// DownloadEngine against the in-memory store, a fake broker and real local origins:
// - more downloads of one origin than HERMES_DOWNLOAD_CONNECTIONS_PER_HOST: the rest wait
//   (waiting_for_connection) instead of running at 0 B/s, and the origin never sees more;
// - more than Qt's 6 per manager when the setting asks for it (several managers);
// - connecting until the response headers arrive; stalled after HERMES_DOWNLOAD_STALLED_AFTER
//   without a byte, and transferring again;
// - retrying with the attempt, the limit and the time of the next attempt;
// - the wire form: null members where nothing applies, and a client reading them back.

#include "enginefixture.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

/// An origin that answers only when the test says so: it accepts, reads the request and
/// writes what it is told (nothing at all, headers and a part of the body, the rest).
class HeldOrigin final : public QObject
{
public:
    HeldOrigin()
    {
        m_server.listen(QHostAddress::LocalHost);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s] { s->readAll(); });
                m_sockets << s;
            }
        });
    }
    QString url(const QString &path) const
    {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(m_server.serverPort()).arg(path);
    }
    int connections() const { return int(m_sockets.size()); }
    void send(const QByteArray &bytes)
    {
        for (const QPointer<QTcpSocket> &s : std::as_const(m_sockets)) {
            if (s)
                s->write(bytes);
        }
    }

private:
    QTcpServer m_server;
    QList<QPointer<QTcpSocket>> m_sockets;
};

} // namespace

class tst_DownloadPhases : public QObject, private EngineFixture
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void waitingForAConnectionBeyondThePerHostLimit();
    void moreThanSixToOneOriginThroughSeveralManagers();
    void connectingUntilTheHeadersArrive();
    void stalledAfterNoBytesThenTransferringAgain();
    void retryingWithAttemptLimitAndNextTime();
    void wireForm();

private:
    /// EngineFixture's, with progress every 100 ms (the phases show between them).
    DownloadEngine *makeEngine(const std::function<void(DownloadEngine::Options &)> &tweak = {});
    QString add(const QString &url);
    DownloadResource resource(const QString &id);
    /// The phases the download_progress events of `id` showed, each change once ("" for none).
    QStringList shownPhases(const QString &id) const;
    std::optional<DownloadProgressEvent> lastEvent(const QString &id) const;
};

void tst_DownloadPhases::init()
{
    setUp();
}

void tst_DownloadPhases::cleanup()
{
    tearDown();
}

DownloadEngine *tst_DownloadPhases::makeEngine(const std::function<void(DownloadEngine::Options &)> &tweak)
{
    return EngineFixture::makeEngine([&tweak](DownloadEngine::Options &options) {
        options.progressIntervalMs = 100;
        if (tweak)
            tweak(options);
    });
}

QString tst_DownloadPhases::add(const QString &url)
{
    return addUrl(url).id;
}

DownloadResource tst_DownloadPhases::resource(const QString &id)
{
    std::optional<Result<Download>> got;
    m_engine->service()->get(id, [&](Result<Download> r) { got.emplace(r); });
    if (!QTest::qWaitFor([&] { return got.has_value(); }, 5000) || !*got)
        return {};
    return m_engine->service()->resourceOf(**got);
}

QStringList tst_DownloadPhases::shownPhases(const QString &id) const
{
    QStringList out;
    for (const Event &e : m_broker->ofType(u"download_progress")) {
        const DownloadProgressEvent p = DownloadProgressEvent::fromJson(e.data);
        if (p.downloadId != id)
            continue;
        const QString phase = p.phase ? p.phase->phaseText : QStringLiteral("?");
        if (out.isEmpty() || out.last() != phase)
            out.append(phase);
    }
    return out;
}

std::optional<DownloadProgressEvent> tst_DownloadPhases::lastEvent(const QString &id) const
{
    std::optional<DownloadProgressEvent> last;
    for (const Event &e : m_broker->ofType(u"download_progress")) {
        const DownloadProgressEvent p = DownloadProgressEvent::fromJson(e.data);
        if (p.downloadId == id)
            last = p;
    }
    return last;
}

static QString name(DownloadPhase phase)
{
    return wireName(phase);
}

void tst_DownloadPhases::waitingForAConnectionBeyondThePerHostLimit()
{
    // Four downloads of one origin may run (max concurrent 4), two connections per host: two
    // transfer, two wait — downloading, and saying so.
    const QByteArray content = FileServer::makeContent(256 * 1024, 3);
    QStringList paths;
    for (int i = 0; i < 4; ++i) {
        FileServer::File f{content};
        f.bytesPerSecond = 32 * 1024; // 8 s each
        paths << QStringLiteral("/slow%1").arg(i);
        m_files->addFile(paths.last().toLatin1(), f);
    }
    makeEngine([](DownloadEngine::Options &o) {
        o.maxConcurrent = 4;
        o.connectionsPerHost = 2;
    });
    QStringList ids;
    for (const QString &path : std::as_const(paths))
        ids << add(m_files->url(path.toLatin1()));
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(ids.cbegin(), ids.cend(), [&](const QString &id) {
        return m_store->row(id)->d.status == DownloadStatus::Downloading;
    }), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_files->activeTransfers(), 2, 5000);
    QStringList phases;
    const auto phasesNow = [&] {
        phases.clear();
        for (const QString &id : std::as_const(ids))
            phases << resource(id).phase.value_or(DownloadPhaseInfo()).phaseText;
        return phases;
    };
    // (The origin counts a transfer once it answers; the engine hears the headers a moment later.)
    QTRY_VERIFY_WITH_TIMEOUT(phasesNow().count(name(DownloadPhase::Transferring)) == 2, 5000);
    QCOMPARE(phases.count(name(DownloadPhase::WaitingForConnection)), 2);
    // A waiting download is not counted as running at some speed.
    for (int i = 0; i < ids.size(); ++i) {
        if (phases.at(i) == name(DownloadPhase::WaitingForConnection)) {
            QCOMPARE(resource(ids.at(i)).progress->speed, 0.0);
            QCOMPARE(resource(ids.at(i)).phase->attempt, 1);
        }
    }
    // Faster now: all four complete, the origin never saw more than two at once, and the two
    // that waited went on through connecting.
    for (const QString &path : std::as_const(paths))
        m_files->file(path.toLatin1()).bytesPerSecond = 0;
    for (const QString &id : std::as_const(ids))
        QTRY_COMPARE_WITH_TIMEOUT(m_store->row(id)->d.status, DownloadStatus::Completed, 20000);
    QCOMPARE(m_files->maxActiveTransfers(), 2);
    int waited = 0;
    for (const QString &id : std::as_const(ids)) {
        const QStringList shown = shownPhases(id);
        qDebug() << id << shown;
        const QStringList running = shown.mid(shown.indexOf(name(DownloadPhase::Connecting)));
        QVERIFY2(shown.contains(name(DownloadPhase::Connecting)), qPrintable(shown.join(u',')));
        QCOMPARE(running.value(1), name(DownloadPhase::Transferring));
        if (shown.contains(name(DownloadPhase::WaitingForConnection))) {
            ++waited;
            QVERIFY(shown.indexOf(name(DownloadPhase::WaitingForConnection)) < shown.indexOf(name(DownloadPhase::Connecting)));
        }
        QCOMPARE(lastEvent(id)->phase->phaseText, QString()); // completed: nothing more to say
    }
    QCOMPARE(waited, 2);
}

void tst_DownloadPhases::moreThanSixToOneOriginThroughSeveralManagers()
{
    // Qt 6.4 opens at most 6 connections per host and network access manager; 8 asked for
    // are 8 at the origin (two managers).
    const QByteArray content = FileServer::makeContent(128 * 1024, 4);
    QList<QByteArray> paths;
    for (int i = 0; i < 8; ++i) {
        FileServer::File f{content};
        f.bytesPerSecond = 16 * 1024;
        paths << QByteArray("/many") + QByteArray::number(i);
        m_files->addFile(paths.last(), f);
    }
    makeEngine([](DownloadEngine::Options &o) {
        o.maxConcurrent = 8;
        o.connectionsPerHost = 8;
    });
    QStringList ids;
    for (const QByteArray &path : std::as_const(paths))
        ids << add(m_files->url(path));
    QTRY_COMPARE_WITH_TIMEOUT(m_files->activeTransfers(), 8, 10000);
    for (const QString &id : std::as_const(ids))
        QCOMPARE(resource(id).phase.value_or(DownloadPhaseInfo()).phaseText, name(DownloadPhase::Transferring));
    for (const QByteArray &path : std::as_const(paths))
        m_files->file(path).bytesPerSecond = 0;
    for (const QString &id : std::as_const(ids))
        QTRY_COMPARE_WITH_TIMEOUT(m_store->row(id)->d.status, DownloadStatus::Completed, 20000);
    QCOMPARE(m_files->maxActiveTransfers(), 8);
}

void tst_DownloadPhases::connectingUntilTheHeadersArrive()
{
    HeldOrigin origin; // accepts, and says nothing
    makeEngine();
    const QString id = add(origin.url(QStringLiteral("/silent")));
    QTRY_COMPARE_WITH_TIMEOUT(origin.connections(), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_store->row(id)->d.status, DownloadStatus::Downloading, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(lastEvent(id)->phase.value_or(DownloadPhaseInfo()).phaseText, name(DownloadPhase::Connecting), 5000);
    QCOMPARE(resource(id).phase->phaseText, name(DownloadPhase::Connecting));
    // Still connecting a while later (no bytes is no stall before the headers).
    QTest::qWait(300);
    QCOMPARE(resource(id).phase->phaseText, name(DownloadPhase::Connecting));
    // Paused: no phase.
    std::optional<Result<Download>> paused;
    m_engine->service()->act(id, DownloadAction::Pause, [&](Result<Download> r) { paused.emplace(r); });
    QTRY_VERIFY_WITH_TIMEOUT(paused.has_value(), 5000);
    QVERIFY(*paused);
    QCOMPARE(resource(id).phase.value_or(DownloadPhaseInfo()).phaseText, QString());
}

void tst_DownloadPhases::stalledAfterNoBytesThenTransferringAgain()
{
    HeldOrigin origin;
    makeEngine([](DownloadEngine::Options &o) { o.stalledAfterMs = 300; });
    const QString id = add(origin.url(QStringLiteral("/stalls")));
    QTRY_COMPARE_WITH_TIMEOUT(origin.connections(), 1, 10000);
    origin.send("HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n0123456789");
    QTRY_COMPARE_WITH_TIMEOUT(lastEvent(id)->phase.value_or(DownloadPhaseInfo()).phaseText, name(DownloadPhase::Stalled), 5000);
    QCOMPARE(resource(id).phase->phaseText, name(DownloadPhase::Stalled));
    QCOMPARE(m_store->row(id)->d.status, DownloadStatus::Downloading);
    // Bytes again: no longer stalled, and done.
    origin.send("abcdefghij");
    QTRY_COMPARE_WITH_TIMEOUT(m_store->row(id)->d.status, DownloadStatus::Completed, 10000);
    const QStringList shown = shownPhases(id);
    QVERIFY2(shown.mid(shown.indexOf(name(DownloadPhase::Connecting)), 3)
                 == (QStringList{name(DownloadPhase::Connecting), name(DownloadPhase::Transferring), name(DownloadPhase::Stalled)}),
             qPrintable(shown.join(u',')));
}

void tst_DownloadPhases::retryingWithAttemptLimitAndNextTime()
{
    FileServer::File broken{"x"};
    broken.status = 503;
    m_files->addFile("/broken", broken);
    makeEngine([](DownloadEngine::Options &o) {
        o.retryBaseMs = 4000; // the first wait is within [2 s, 4 s)
        o.maxAttempts = 5;
    });
    const QDateTime before = QDateTime::currentDateTimeUtc();
    const QString id = add(m_files->url("/broken"));
    QTRY_COMPARE_WITH_TIMEOUT(m_store->row(id)->d.attempts, 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(lastEvent(id)->status->known, DownloadStatus::Pending, 5000);
    const DownloadPhaseInfo shown = lastEvent(id)->phase.value_or(DownloadPhaseInfo());
    QCOMPARE(shown.phaseText, name(DownloadPhase::Retrying));
    QCOMPARE(shown.attempt, 2);
    QCOMPARE(shown.maxAttempts, 5);
    QVERIFY(shown.nextAttemptAt.isValid());
    const qint64 in = before.msecsTo(shown.nextAttemptAt);
    QVERIFY2(in >= 2000 && in <= 4000 + 5000, qPrintable(QString::number(in)));
    // The REST download says the same.
    const DownloadResource r = resource(id);
    QCOMPARE(r.phase->phaseText, name(DownloadPhase::Retrying));
    QCOMPARE(r.phase->attempt, 2);
    QCOMPARE(r.phase->maxAttempts, 5);
    QCOMPARE(r.phase->nextAttemptAt, shown.nextAttemptAt);
    // The phase of a download that just failed: none (downloading had one).
    const QStringList phases = shownPhases(id);
    QVERIFY2(phases.contains(name(DownloadPhase::Connecting)), qPrintable(phases.join(u',')));
    QCOMPARE(phases.last(), name(DownloadPhase::Retrying));
}

void tst_DownloadPhases::wireForm()
{
    // Nothing to say: every member present and null (a client tells "none" from "not sent").
    DownloadResource plain;
    plain.phase = DownloadPhaseInfo();
    const QJsonObject none = plain.toJson();
    for (const char *key : {"phase", "attempt", "max_attempts", "next_attempt_at"}) {
        QVERIFY2(none.contains(QLatin1StringView(key)), key);
        QVERIFY2(none.value(QLatin1StringView(key)).isNull(), key);
    }
    QVERIFY(DownloadResource::fromJson(none).phase.has_value());
    QVERIFY(DownloadResource::fromJson(none).phase->isEmpty());
    // An older server's download: no phase at all.
    QJsonObject older = none;
    older.remove(QStringLiteral("phase"));
    QVERIFY(!DownloadResource::fromJson(older).phase.has_value());
    // Retrying, both ways, in an event.
    DownloadProgressEvent e;
    e.downloadId = QStringLiteral("d1");
    e.status = ReceivedStatus::of(DownloadStatus::Pending);
    e.phase = DownloadPhaseInfo::of(DownloadPhase::Retrying);
    e.phase->attempt = 2;
    e.phase->maxAttempts = 5;
    e.phase->nextAttemptAt = QDateTime(QDate(2026, 12, 7), QTime(12, 0, 8), Qt::UTC);
    const QJsonObject json = e.toJson();
    QCOMPARE(json.value(QStringLiteral("phase")).toString(), QStringLiteral("retrying"));
    QCOMPARE(json.value(QStringLiteral("attempt")).toInt(), 2);
    QCOMPARE(json.value(QStringLiteral("max_attempts")).toInt(), 5);
    QCOMPARE(json.value(QStringLiteral("next_attempt_at")).toString(), QStringLiteral("2026-12-07T12:00:08.000Z"));
    const DownloadProgressEvent back = DownloadProgressEvent::fromJson(json);
    QCOMPARE(back.phase->phase, DownloadPhase::Retrying);
    QCOMPARE(back.phase->nextAttemptAt, e.phase->nextAttemptAt);
    // A newer server's phase: kept as sent.
    QJsonObject newer = json;
    newer.insert(QStringLiteral("phase"), QStringLiteral("throttled"));
    const DownloadProgressEvent unknown = DownloadProgressEvent::fromJson(newer);
    QVERIFY(!unknown.phase->phase);
    QCOMPARE(unknown.phase->phaseText, QStringLiteral("throttled"));
}

QTEST_GUILESS_MAIN(tst_DownloadPhases)
#include "tst_downloadphases.moc"
