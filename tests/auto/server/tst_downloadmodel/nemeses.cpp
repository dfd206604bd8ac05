// The faults of the download model: processes (SIGKILL, SIGSTOP past the lease, PostgreSQL
// restarts), the resolver, the origin (versions, drops, error bursts, trickles, hostile
// Content-Disposition), the disk (a ballast file on the download dir's tmpfs), the clock (a
// node under libfaketime) and hostile entries planted in the download dir.

#include "modelrun.h"

#include "eventrecorder.h"
#include "origin.h"
#include "postgresprocess.h"
#include "serverprocess.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace DlModel {

static constexpr int LeaseMs = 3000;
static constexpr int RenewMs = 1000;

QList<Nemesis> ModelRun::applicableNemeses() const
{
    // Weighted: the process faults (a stopped node above all) and version changes make the
    // splices, and the process faults are skipped while another one is under way.
    static const int weights[] = {/*kill*/ 2, /*stop*/ 4, /*postgres*/ 1, /*resolver*/ 2, /*version*/ 2,
                                  /*drops*/ 1, /*errors*/ 1, /*trickle*/ 1, /*disk*/ 2, /*clock*/ 1,
                                  /*symlink*/ 1, /*fifo*/ 1, /*disposition*/ 1};
    static_assert(sizeof(weights) / sizeof(weights[0]) == size_t(Nemesis::Count));
    QList<Nemesis> out;
    for (int k = 0; k < int(Nemesis::Count); ++k) {
        for (int w = 0; enabled(Nemesis(k)) && w < weights[k]; ++w)
            out << Nemesis(k);
    }
    return out;
}

bool ModelRun::processFaultActive() const
{
    if (m_config.postgres && !m_postgresUp)
        return true;
    for (const Node &n : m_nodes) {
        if (n.state == Node::State::Down || n.state == Node::State::Stopped)
            return true;
    }
    return false;
}

void ModelRun::injectFault(const Draws &d)
{
    // The kinds that apply depend on the configuration only, never on timing.
    const QList<Nemesis> kinds = applicableNemeses();
    if (kinds.isEmpty())
        return;
    const Nemesis kind = kinds.at(int(d[1] % quint32(kinds.size())));
    if (inject(kind, d))
        ++m_faults[size_t(kind)];
}

bool ModelRun::inject(Nemesis kind, const Draws &d)
{
    switch (kind) {
    case Nemesis::NodeKill:
        return !processFaultActive() && killNode(d);
    case Nemesis::NodeStop:
        return !processFaultActive() && stopNode(d);
    case Nemesis::PostgresRestart:
        return !processFaultActive() && restartPostgres(d);
    case Nemesis::Resolver:
        return failResolver(d);
    case Nemesis::Version:
        return changeVersion(d[2], m_origin->activePaths());
    case Nemesis::Drops:
    case Nemesis::ErrorBurst:
    case Nemesis::Trickle:
        return originFault(kind, d);
    case Nemesis::DiskFull:
        return fillDisk(d);
    case Nemesis::ClockStep:
        return stepClock(d);
    case Nemesis::PlantSymlink:
    case Nemesis::PlantFifo:
        return plantAndReopen(kind, d);
    case Nemesis::Disposition:
        return hostileDisposition(d);
    case Nemesis::Count:
        break;
    }
    return false;
}

bool ModelRun::killNode(const Draws &d)
{
    const int i = pickNode(d[2]);
    if (i < 0)
        return false;
    Node &n = m_nodes[size_t(i)];
    m_interruptions.append(wallMs());
    n.process->kill();
    n.state = Node::State::Down;
    const qint64 heal = wallMs() + 500 + d[3] % 2000;
    m_active.append(Active{Nemesis::NodeKill, heal, {}, i});
    log(QStringLiteral("SIGKILL node %1 (restart in %2 ms)").arg(i).arg(heal - wallMs()));
    return true;
}

bool ModelRun::stopNode(const Draws &d)
{
    const int i = pickNode(d[2]);
    if (i < 0)
        return false;
    Node &n = m_nodes[size_t(i)];
    // What is being served now: among it, what the stopped node was fetching.
    const QList<QByteArray> active = m_origin->activePaths();
    m_interruptions.append(wallMs());
    ::kill(pid_t(n.process->process().processId()), SIGSTOP);
    n.state = Node::State::Stopped;
    const qint64 now = wallMs();
    // Longer than the lease and a renewal on several nodes: another node takes its downloads
    // over meanwhile, and the stopped one wakes up to writes it must no longer make.
    qint64 heal = now + (m_nodes.size() > 1 ? LeaseMs + RenewMs + 500 + d[3] % 2000 : 1500 + d[3] % 2500);
    QString followUp;
    if (m_nodes.size() > 1 && !active.isEmpty() && d[4] % 100 < 75) {
        // The key case: the origin changes a file the stopped node was fetching after the
        // takeover, so the taker restarts it from zero while the sleeper still holds old bytes.
        const qint64 at = now + LeaseMs + RenewMs + 700;
        const QByteArray path = active.at(int(d[5] % quint32(active.size())));
        m_active.append(Active{Nemesis::Version, at, path, -1});
        heal = qMax(heal, at + 800);
        followUp = QStringLiteral("; a new version of %1 in %2 ms").arg(QString::fromLatin1(path)).arg(at - now);
    }
    m_active.append(Active{Nemesis::NodeStop, heal, {}, i});
    log(QStringLiteral("SIGSTOP node %1 for %2 ms%3").arg(i).arg(heal - now).arg(followUp));
    return true;
}

bool ModelRun::restartPostgres(const Draws &d)
{
    m_interruptions.append(wallMs()); // the nodes lose their leases: takeovers publish again
    m_postgres->stop();
    m_postgresUp = false;
    const qint64 heal = wallMs() + 500 + d[2] % 2000;
    m_active.append(Active{Nemesis::PostgresRestart, heal, {}, -1});
    log(QStringLiteral("PostgreSQL stopped (start in %1 ms)").arg(heal - wallMs()));
    return true;
}

bool ModelRun::failResolver(const Draws &d)
{
    if (QFile::exists(m_resolverFlag))
        return false;
    QFile flag(m_resolverFlag);
    if (!flag.open(QIODevice::WriteOnly))
        return false;
    const qint64 heal = wallMs() + 1500 + d[2] % 3500;
    m_active.append(Active{Nemesis::Resolver, heal, {}, -1});
    log(QStringLiteral("resolver fails for %1 ms").arg(heal - wallMs()));
    return true;
}

bool ModelRun::changeVersion(quint32 d, const QList<QByteArray> &among)
{
    // Mostly a file under way (where a change can splice), else any.
    const QList<QByteArray> &pool = among.isEmpty() ? m_files : among;
    const QByteArray path = pool.at(int(d / 2 % quint32(pool.size())));
    if (!m_origin->serves(path))
        return false;
    const int v = m_origin->newVersion(path, d % 2 == 0);
    log(QStringLiteral("origin: %1 is now v%2 (%3 bytes)").arg(QString::fromLatin1(path)).arg(v)
            .arg(m_origin->current(path).bytes.size()));
    return true;
}

bool ModelRun::originFault(Nemesis kind, const Draws &d)
{
    const QByteArray path = m_files.at(int(d[2] % quint32(m_files.size())));
    const qint64 now = wallMs();
    qint64 heal = now;
    QString what;
    if (kind == Nemesis::Drops) {
        const int percent = 20 + int(d[3] % 50);
        m_origin->setDrops(path, percent);
        heal += 2000 + d[4] % 4000;
        what = QStringLiteral("drops %1 % of the transfers").arg(percent);
    } else if (kind == Nemesis::ErrorBurst) {
        static const int statuses[] = {500, 502, 503, 429, 408};
        const int status = statuses[d[4] % 5];
        const int count = 1 + int(d[3] % 4);
        const int retryAfter = (status == 429 || status == 503) && d[5] % 3 ? int(d[5] % 3) : -1;
        m_origin->burst(path, count, status, retryAfter);
        heal += 4000;
        what = QStringLiteral("answers the next %1 requests with %2 (Retry-After %3)").arg(count).arg(status).arg(retryAfter);
    } else {
        const qint64 rate = 6 * 1024 + d[3] % (30 * 1024);
        m_origin->setRate(path, rate);
        heal += 2000 + d[4] % 3000;
        what = QStringLiteral("trickles at %1 B/s").arg(rate);
    }
    m_active.append(Active{kind, heal, path, -1});
    log(QStringLiteral("origin: %1 %2 for %3 ms").arg(QString::fromLatin1(path), what, QString::number(heal - now)));
    return true;
}

bool ModelRun::fillDisk(const Draws &d)
{
    if (!m_tmpfs || QFile::exists(m_ballast))
        return false;
    struct statvfs s{};
    if (::statvfs(QFile::encodeName(m_downloadDir).constData(), &s) != 0)
        return false;
    // Leave less than a MiB (HERMES_DOWNLOAD_MIN_FREE=1), sometimes nothing at all.
    const qint64 keep = qint64(d[2] % (192 * 1024));
    const qint64 size = qint64(s.f_bavail) * qint64(s.f_frsize) - keep;
    const int fd = ::open(QFile::encodeName(m_ballast).constData(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    const int rc = size > 0 ? ::posix_fallocate(fd, 0, size) : 0;
    ::close(fd);
    const qint64 heal = wallMs() + 2000 + d[3] % 3000;
    m_active.append(Active{Nemesis::DiskFull, heal, {}, -1});
    log(QStringLiteral("disk full: a %1-byte ballast (fallocate %2), %3 bytes left, for %4 ms")
            .arg(size).arg(rc).arg(keep).arg(heal - wallMs()));
    return true;
}

bool ModelRun::stepClock(const Draws &d)
{
    static const char *const steps[] = {"+90s", "-45s", "+0s", "+300s", "-10s"};
    const char *step = steps[d[2] % 5];
    QFile f(m_clockFile);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(QByteArray(step) + '\n') < 0)
        return false;
    log(QStringLiteral("the faketime node's wall clock is now %1").arg(QLatin1StringView(step)));
    return true;
}

QString ModelRun::targetNameGuess(const DownloadRecord &r) const
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]*$"));
    if (!r.requestedName.isEmpty())
        return plain.match(r.requestedName).hasMatch() ? r.requestedName : QString();
    return QString::fromLatin1(r.path.mid(r.path.lastIndexOf('/') + 1));
}

bool ModelRun::plant(Nemesis kind, DownloadRecord *r, quint32 d)
{
    if (r->id.isEmpty())
        return false;
    // Today's part file, the per-generation names of the server to come, the finished name.
    QStringList names;
    switch (d % 4) {
    case 0: names << r->id + QStringLiteral(".part") << r->id + QStringLiteral(".1.part"); break;
    case 1: names << r->id + QStringLiteral(".1.part") << r->id + QStringLiteral(".2.part")
                  << r->id + QStringLiteral(".3.part"); break;
    case 2: names << targetNameGuess(*r); break;
    default: names << r->id + QStringLiteral(".part") << targetNameGuess(*r); break;
    }
    QStringList sentinels = m_sentinels.keys();
    sentinels.sort();
    const bool toSentinel = d / 4 % 2;
    const int which = int(d / 8 % 3);
    QStringList planted;
    for (const QString &name : std::as_const(names)) {
        if (name.isEmpty())
            continue;
        Plant p;
        p.name = name;
        p.forId = r->id;
        p.atTargetName = !name.endsWith(QLatin1StringView(".part"));
        const QByteArray at = QFile::encodeName(QDir(m_downloadDir).filePath(name));
        int rc;
        if (kind == Nemesis::PlantFifo) {
            p.kind = QStringLiteral("fifo");
            rc = ::mkfifo(at.constData(), 0644);
        } else {
            p.kind = QStringLiteral("symlink");
            p.target = toSentinel ? QDir(m_outsideDir).filePath(sentinels.value(which))
                                  : m_ghosts.at(which);
            rc = ::symlink(QFile::encodeName(p.target).constData(), at.constData());
        }
        if (rc != 0) {
            ++m_plantsLost; // the name exists: the server (or an earlier plant) was first
            continue;
        }
        m_plants.append(p);
        planted << (p.target.isEmpty() ? name : name + QStringLiteral(" -> ") + p.target);
    }
    log(QStringLiteral("planted %1 for #%2 %3: %4").arg(nemesisName(kind)).arg(r->index).arg(r->id)
            .arg(planted.isEmpty() ? QStringLiteral("(every name was taken)") : planted.join(QStringLiteral(", "))));
    return !planted.isEmpty();
}

// A download added is claimed within milliseconds, usually before the test can plant at its
// part-file name. A cancelled one has no part file any more (cancel removes it): the plant is
// in place before the retry that reopens it. Else a download under way, where the plant waits
// for the part-file names of later lease generations.
bool ModelRun::plantAndReopen(Nemesis kind, const Draws &d)
{
    QList<int> reopenable, open;
    for (const DownloadRecord &r : std::as_const(m_downloads)) {
        const QString s = r.id.isEmpty() ? QString() : lastSeenStatus(r);
        if (s == u"cancelled" || s == u"failed")
            reopenable << r.index;
        else if (s == u"pending" || s == u"paused" || s == u"downloading")
            open << r.index;
    }
    if (reopenable.isEmpty()) {
        return !open.isEmpty() && plant(kind, &m_downloads[open.at(int(d[2] % quint32(open.size())))], d[3]);
    }
    DownloadRecord &r = m_downloads[reopenable.at(int(d[2] % quint32(reopenable.size())))];
    // Names: today's part file and the first generation's, or today's and the finished name.
    const quint32 names = (d[3] & ~3u) | (d[5] % 2 ? 0u : 3u);
    if (!plant(kind, &r, names))
        return false;
    const int node = pickNode(d[4]);
    if (node < 0)
        return true;
    const Hermes::Test::HttpReply reply = api(node, "POST", "/api/v1/downloads/" + r.id.toLatin1() + "/retry");
    log(QStringLiteral("retry #%1 %2 via node %3 over the plant -> HTTP %4").arg(r.index).arg(r.id).arg(node).arg(reply.status));
    if (reply.status == 200)
        r.lastAction = QStringLiteral("retry");
    else if (reply.status != 409)
        r.actionUncertain = true;
    return true;
}

bool ModelRun::hostileDisposition(const Draws &d)
{
    const QByteArray path = m_files.at(int(d[2] % quint32(m_files.size())));
    QList<int> open;
    for (const DownloadRecord &r : std::as_const(m_downloads)) {
        if (!r.id.isEmpty() && lastSeenStatus(r) != u"completed")
            open << r.index;
    }
    const QString other = open.isEmpty() ? QString() : m_downloads.at(open.at(int(d[4] % quint32(open.size())))).id;
    QByteArray value;
    switch (d[3] % 5) {
    case 0: value = "attachment; filename=\"notes.part\""; break;
    case 1: value = "attachment; filename=\"../escape\""; break;
    case 2: value = "attachment; filename*=UTF-8''..%2F..%2Fescape"; break;
    case 3: value = other.isEmpty() ? QByteArray("attachment; filename=\"notes.part\"")
                                     : "attachment; filename=\"" + other.toLatin1() + ".part\""; break;
    default: value = other.isEmpty() ? QByteArray("attachment; filename=\"../escape\"")
                                     : "attachment; filename=\"" + other.toLatin1() + ".1.part\""; break;
    }
    m_origin->setDisposition(path, value);
    const qint64 heal = wallMs() + 3000 + d[5] % 5000;
    m_active.append(Active{Nemesis::Disposition, heal, path, -1});
    log(QStringLiteral("origin: %1 says Content-Disposition: %2 for %3 ms")
            .arg(QString::fromLatin1(path), QString::fromLatin1(value), QString::number(heal - wallMs())));
    return true;
}

// --- healing --------------------------------------------------------------------------------

void ModelRun::healDue(bool everything)
{
    const qint64 now = wallMs();
    // The database first: a node restarting needs it.
    for (int pass = 0; pass < 2; ++pass) {
        for (qsizetype i = 0; i < m_active.size();) {
            const Active a = m_active.at(i);
            const bool database = a.kind == Nemesis::PostgresRestart;
            if ((pass == 0) != database || (!everything && now < a.healAtMs)) {
                ++i;
                continue;
            }
            m_active.removeAt(i);
            heal(a);
        }
    }
    if (everything) {
        m_origin->clearFaults();
        for (int i = 0; i < int(m_nodes.size()); ++i) {
            const Node::State s = m_nodes[size_t(i)].state;
            if (s != Node::State::Up && s != Node::State::Hung) // a hung node was reported when it hung
                fail(Check::Run, QStringLiteral("node %1 is still not up after healing").arg(i));
        }
    }
}

void ModelRun::heal(const Active &a)
{
    switch (a.kind) {
    case Nemesis::NodeKill:
        log(QStringLiteral("restart node %1").arg(a.node));
        startNode(a.node);
        break;
    case Nemesis::NodeStop:
        log(QStringLiteral("SIGCONT node %1").arg(a.node));
        ::kill(pid_t(m_nodes[size_t(a.node)].process->process().processId()), SIGCONT);
        m_nodes[size_t(a.node)].state = Node::State::Up;
        break;
    case Nemesis::PostgresRestart:
        log(QStringLiteral("PostgreSQL starts again"));
        m_postgresUp = m_postgres->start();
        if (!m_postgresUp)
            fail(Check::Run, QStringLiteral("PostgreSQL did not start again: ") + m_postgres->errorString());
        break;
    case Nemesis::Resolver:
        log(QStringLiteral("resolver answers again"));
        QFile::remove(m_resolverFlag);
        break;
    case Nemesis::Version: // the follow-up of a SIGSTOP: a change, not a heal
        changeVersion(0, {a.path});
        ++m_faults[size_t(Nemesis::Version)];
        break;
    case Nemesis::Drops:
        m_origin->setDrops(a.path, 0);
        break;
    case Nemesis::ErrorBurst:
        m_origin->burst(a.path, 0, 503, -1);
        break;
    case Nemesis::Trickle:
        m_origin->clearRate(a.path);
        break;
    case Nemesis::DiskFull:
        log(QStringLiteral("disk: ballast removed"));
        QFile::remove(m_ballast);
        break;
    case Nemesis::Disposition:
        m_origin->setDisposition(a.path, {});
        break;
    default:
        break;
    }
}

} // namespace DlModel
