// The run as a whole: the operations for the time asked, every fault healed, a bounded wait
// for quiescence, the checks (checks.cpp), the summary and the report.

#include "modelrun.h"

#include "eventrecorder.h"
#include "origin.h"
#include "serverprocess.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <algorithm>

namespace DlModel {

using namespace Hermes::Test;

// Every transfer left must finish once the faults are healed: the largest file at its slowest
// rate, after the longest retry delay (60 s); a run that needs longer is stuck.
static constexpr int QuiescenceMs = 90000;
static constexpr int StreamCatchUpMs = 10000;

static bool isActive(const QString &status)
{
    return status == u"pending" || status == u"downloading" || status == u"processing";
}

bool ModelRun::run()
{
    m_clock.start();
    if (!setUp()) {
        m_seconds = m_clock.elapsed() / 1000.0;
        return false;
    }
    const qint64 until = m_clock.elapsed() + m_limits.seconds * 1000;
    const qint64 maxSteps = m_limits.seconds * 40; // a bound, should the pacing ever not wait
    while (m_clock.elapsed() < until && m_op < maxSteps && !allHung()) {
        ++m_op;
        checkProcesses();
        healDue(false);
        m_recorder->poll();
        step();
    }
    ++m_op;
    log(QStringLiteral("heal everything"));
    healDue(true);
    // Most of what the test paused is resumed, so that it is checked whole; the rest stays.
    for (DownloadRecord &r : m_downloads) {
        const quint32 d = m_rng.generate();
        const int node = pickNode(d);
        if (r.lastAction != u"pause" || d % 4 == 0 || node < 0)
            continue;
        const HttpReply reply = api(node, "POST", "/api/v1/downloads/" + r.id.toLatin1() + "/resume");
        log(QStringLiteral("resume #%1 %2 via node %3 -> HTTP %4").arg(r.index).arg(r.id).arg(node).arg(reply.status));
        if (reply.status == 200)
            r.lastAction = QStringLiteral("resume");
        else if (reply.status != 409)
            r.actionUncertain = true;
    }
    quiesce();
    QList<QJsonObject> rows;
    if (listRows(&rows)) {
        checkAll(rows);
    } else {
        // Every node up, none answering: hung (a blocked event loop). Everything is stuck.
        m_stuck = int(std::count_if(m_downloads.cbegin(), m_downloads.cend(), [](const DownloadRecord &r) { return !r.id.isEmpty(); }));
        fail(Check::Status, QStringLiteral("no node answered the final listing of the downloads: %1").arg(nodeHealth()));
        checkOutside();
    }
    m_seconds = m_clock.elapsed() / 1000.0;
    if (!m_limits.opLogFile.isEmpty()) {
        QFile f(m_limits.opLogFile);
        if (f.open(QIODevice::WriteOnly | QIODevice::Append))
            f.write((summary() + u'\n' + m_opLog.join(u'\n') + u'\n' + m_problems.join(u'\n') + u'\n').toUtf8());
    }
    return std::all_of(m_failedChecks.cbegin(), m_failedChecks.cend(), [](int n) { return n == 0; });
}

bool ModelRun::pausedByTest(const QString &id) const
{
    for (const DownloadRecord &r : m_downloads) {
        if (r.id == id)
            return r.lastAction == u"pause" || r.actionUncertain;
    }
    return false;
}

bool ModelRun::listRows(QList<QJsonObject> *rows)
{
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        if (m_nodes[size_t(i)].state != Node::State::Up)
            continue;
        QList<QJsonObject> out;
        bool ok = true;
        for (int offset = 0; ok && offset < 100000;) {
            const HttpReply r = api(i, "GET", "/api/v1/downloads?limit=1000&offset=" + QByteArray::number(offset));
            const QJsonObject page = QJsonDocument::fromJson(r.body).object();
            const QJsonArray items = page.value(QStringLiteral("items")).toArray();
            ok = r.status == 200;
            for (const QJsonValue &v : items)
                out << v.toObject();
            offset += int(items.size());
            if (items.isEmpty() || offset >= page.value(QStringLiteral("total")).toInt())
                break;
        }
        if (ok) {
            *rows = out;
            return true;
        }
    }
    return false;
}

bool ModelRun::quiesce()
{
    QElapsedTimer t;
    t.start();
    QList<QJsonObject> rows;
    int active = -1;
    while (t.elapsed() < QuiescenceMs && !allHung()) {
        checkProcesses();
        m_recorder->poll();
        if (listRows(&rows)) {
            active = 0;
            for (const QJsonObject &row : std::as_const(rows)) {
                // A download the server paused for a full disk goes on by itself once there is
                // room again (the ballast is gone by now): it is not quiet yet either.
                const QString status = row.value(QStringLiteral("status")).toString();
                active += isActive(status) || (status == u"paused" && !pausedByTest(row.value(QStringLiteral("id")).toString())
                                               && Reasons::isDiskFull(row.value(QStringLiteral("error_message")).toString()));
            }
            if (active == 0)
                break;
        }
        QTest::qWait(500);
    }
    log(QStringLiteral("quiescence after %1 ms: %2 still active").arg(t.elapsed()).arg(active));
    // The stream catches up with the rows: its last change of each is the row's status.
    (void)QTest::qWaitFor([&] {
        m_recorder->poll();
        for (const QJsonObject &row : std::as_const(rows)) {
            const QList<SeenChange> seen = m_recorder->transitions(row.value(QStringLiteral("id")).toString());
            const QString last = seen.isEmpty() ? QStringLiteral("pending") : seen.last().status;
            if (last != row.value(QStringLiteral("status")).toString())
                return false;
        }
        return true;
    }, StreamCatchUpMs);
    return active == 0;
}

// Each node: whether it answers /livez now, and its last log lines.
QString ModelRun::nodeHealth()
{
    QStringList out;
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        const Node &n = m_nodes[size_t(i)];
        const HttpReply live = httpRequest(n.process->port(), "GET", "/livez", {}, {}, 2000);
        const QList<QByteArray> lines = n.process->output().trimmed().split('\n');
        out << QStringLiteral("node %1 (pid %2) %3; its last lines: %4")
                   .arg(i).arg(n.process->process().processId())
                   .arg(live.status == 200 ? QStringLiteral("answers /livez") : QStringLiteral("does not answer /livez within 2 s"),
                        QString::fromUtf8(lines.mid(qMax<qsizetype>(0, lines.size() - 3)).join(" | ")));
    }
    return out.join(QStringLiteral("; "));
}

QString ModelRun::failedChecks() const
{
    QStringList checks;
    for (int k = 0; k < int(Check::Count); ++k) {
        if (m_failedChecks[size_t(k)] > 0)
            checks << QStringLiteral("%1:%2").arg(checkName(Check(k))).arg(m_failedChecks[size_t(k)]);
    }
    return checks.join(u',');
}

QString ModelRun::summary() const
{
    QStringList faults;
    for (int k = 0; k < int(Nemesis::Count); ++k) {
        if (m_faults[size_t(k)] > 0)
            faults << QStringLiteral("%1:%2").arg(nemesisName(Nemesis(k))).arg(m_faults[size_t(k)]);
    }
    QHash<QString, int> byStatus;
    int downloads = 0;
    for (const DownloadRecord &r : m_downloads) {
        if (r.id.isEmpty())
            continue;
        ++downloads;
        ++byStatus[r.row.value(QStringLiteral("status")).toString()];
    }
    return QStringLiteral("downloadmodel %1: seed=%2 seconds=%3 ops=%4 faults={%5} downloads=%6 completed=%7 "
                          "failed=%8 paused=%9 cancelled=%10 corrupt=%11 stuck=%12 failed checks={%13} "
                          "plants=%14 (names taken first: %15) stream reconnects=%16 events=%17 republished after a kill or stop=%18 pending repeats (open, not fatal unless strict)=%19")
        .arg(m_config.name).arg(m_limits.seed).arg(m_seconds, 0, 'f', 1).arg(m_op)
        .arg(faults.join(u','))
        .arg(downloads).arg(byStatus.value(QStringLiteral("completed")))
        .arg(byStatus.value(QStringLiteral("failed"))).arg(byStatus.value(QStringLiteral("paused")))
        .arg(byStatus.value(QStringLiteral("cancelled"))).arg(m_corrupt).arg(m_stuck)
        .arg(failedChecks()).arg(m_plants.size()).arg(m_plantsLost)
        .arg(m_recorder ? m_recorder->reconnects() : 0).arg(m_recorder ? m_recorder->events() : 0)
        .arg(m_republished).arg(m_pendingRepeats);
}

QString ModelRun::report() const
{
    QString out = QStringLiteral("download model %1 failed with seed %2 (reproduce: HERMES_MODEL_SEED=%2 "
                                 "HERMES_MODEL_SECONDS=%3 tst_downloadmodel model:%1)\n")
                      .arg(m_config.name).arg(m_limits.seed).arg(m_limits.seconds);
    for (const QString &n : m_notes)
        out += n + u'\n';
    out += QStringLiteral("problems by check: {%1}\n").arg(failedChecks());
    for (const QString &p : m_problems)
        out += QStringLiteral("  - ") + p + u'\n';
    // A short run's whole log (a plant at the start may explain a failure at the end).
    const qsizetype from = qMax<qsizetype>(0, m_opLog.size() - 400);
    out += QStringLiteral("the last %1 operations:\n").arg(m_opLog.size() - from);
    for (qsizetype i = from; i < m_opLog.size(); ++i)
        out += QStringLiteral("  ") + m_opLog.at(i) + u'\n';
    return out;
}

} // namespace DlModel
