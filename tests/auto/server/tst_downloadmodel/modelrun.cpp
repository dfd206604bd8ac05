#include "modelrun.h"

#include "eventrecorder.h"
#include "origin.h"
#include "postgresprocess.h"
#include "redisprocess.h"
#include "serverprocess.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTest>

#include <algorithm>
#include <csignal>

namespace DlModel {

using namespace Hermes::Test;

static const QByteArray ApiKey = "model-key";
static const QByteArray Bearer = "Bearer " + ApiKey;
// Short leases, so that takeovers happen within a short run (the cluster suite's values).
static constexpr int LeaseMs = 3000;
static constexpr int RenewMs = 1000;
static constexpr qint64 MaxFileSize = 4 * 1024 * 1024;

static QJsonObject jsonObject(const QByteArray &bytes)
{
    return QJsonDocument::fromJson(bytes).object();
}

ModelRun::ModelRun(const ModelConfig &config, const RunLimits &limits) : m_config(config), m_limits(limits)
{
    const quint32 words[2] = {quint32(limits.seed), quint32(limits.seed >> 32)};
    m_rng = QRandomGenerator(words, words + 2);
    if (m_limits.seconds <= 0)
        m_limits.seconds = m_config.defaultSeconds;
    if (!m_config.postgres)
        m_limits.nemeses &= ~(1u << int(Nemesis::PostgresRestart));
}

ModelRun::~ModelRun()
{
    tearDown();
}

Draws ModelRun::draws()
{
    Draws d;
    for (quint32 &x : d)
        x = m_rng.generate();
    return d;
}

QString checkName(Check c)
{
    static const char *const names[] = {"0-run", "1-status", "2-content", "3-failure", "4-directory",
                                        "5-outside", "6-events"};
    return QString::fromLatin1(names[int(c)]);
}

void ModelRun::fail(Check check, const QString &problem)
{
    ++m_failedChecks[size_t(check)];
    if (m_problems.size() < 60)
        m_problems << QStringLiteral("[%1] %2").arg(checkName(check), problem);
    else if (m_problems.size() == 60)
        m_problems << QStringLiteral("(more problems left out)");
}

void ModelRun::log(const QString &op)
{
    const qint64 ms = m_clock.elapsed();
    m_opLog << QStringLiteral("#%1 %2.%3s %4").arg(m_op).arg(ms / 1000).arg((ms % 1000) / 100).arg(op);
}

// --- the deployment -----------------------------------------------------------------------

bool ModelRun::prepareSandbox()
{
    if (!m_root.isValid() || !m_control.isValid()) {
        fail(Check::Run, QStringLiteral("no temporary directory"));
        return false;
    }
    m_downloadDir = m_root.filePath(QStringLiteral("downloads"));
    m_outsideDir = m_root.filePath(QStringLiteral("outside"));
    QDir().mkpath(m_downloadDir);
    QDir().mkpath(m_outsideDir);
    // A small tmpfs of its own, so the test can fill it without filling the machine's disk;
    // room for what the run completes besides (about one download of a few MB a second): a
    // soak that filled it with finished files would rightly start nothing more (below
    // HERMES_DOWNLOAD_MIN_FREE), which is not the fault under test.
    if (enabled(Nemesis::DiskFull)) {
        const QString size = QStringLiteral("size=%1m,mode=0755").arg(256 + 6 * m_limits.seconds);
        QProcess mount;
        mount.setProcessChannelMode(QProcess::MergedChannels);
        mount.start(QStringLiteral("mount"), {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                                              size, QStringLiteral("tmpfs"), m_downloadDir});
        m_tmpfs = mount.waitForFinished(10000) && mount.exitStatus() == QProcess::NormalExit && mount.exitCode() == 0;
        if (!m_tmpfs) {
            m_notes << QStringLiteral("SKIP nemesis disk: cannot mount a tmpfs as the download dir (%1)")
                           .arg(QString::fromLocal8Bit(mount.readAll()).trimmed());
            m_limits.nemeses &= ~(1u << int(Nemesis::DiskFull));
        }
    }
    m_ballast = QDir(m_downloadDir).filePath(QStringLiteral("zz-ballast.model"));
    for (int k = 0; k < 3; ++k) {
        const QString name = QStringLiteral("sentinel-%1.txt").arg(k);
        const QByteArray bytes = "sentinel " + QByteArray::number(k) + ": must never change\n"
                                 + Hermes::Test::FileServer::makeContent(1000 + k * 777, 900 + k);
        QFile f(QDir(m_outsideDir).filePath(name));
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) {
            fail(Check::Run, QStringLiteral("cannot write %1").arg(f.fileName()));
            return false;
        }
        m_sentinels.insert(name, bytes);
        m_ghosts << QDir(m_outsideDir).filePath(QStringLiteral("ghost-%1").arg(k));
    }
    m_resolverFlag = m_control.filePath(QStringLiteral("resolver-fails"));
    m_clockFile = m_control.filePath(QStringLiteral("clock"));
    QFile clock(m_clockFile);
    if (!clock.open(QIODevice::WriteOnly) || clock.write("+0s\n") < 0)
        return false;
    if (!QFile::exists(QStringLiteral(HERMES_RESOLVER_FAULT_LIB))) {
        fail(Check::Run, QStringLiteral("the resolver preload %1 was not built").arg(QStringLiteral(HERMES_RESOLVER_FAULT_LIB)));
        return false;
    }
    if (enabled(Nemesis::ClockStep)) {
        for (const char *dir : {"/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime",
                                "/usr/lib/faketime", "/usr/local/lib/faketime"}) {
            const QString lib = QLatin1StringView(dir) + QStringLiteral("/libfaketime.so.1");
            if (m_faketimeLib.isEmpty() && QFile::exists(lib))
                m_faketimeLib = lib;
        }
        if (m_faketimeLib.isEmpty()) {
            m_notes << QStringLiteral("SKIP nemesis clock: libfaketime is not installed (apt-get install faketime)");
            m_limits.nemeses &= ~(1u << int(Nemesis::ClockStep));
        }
    }
    return true;
}

QProcessEnvironment ModelRun::nodeEnv(int i) const
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEYS"), QString::fromLatin1(ApiKey));
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("downloadmodel-secret"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_DIR"), m_downloadDir);
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE"), QString::number(LeaseMs));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE_RENEW"), QString::number(RenewMs));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QStringLiteral("100"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_MAX_ATTEMPTS"), QStringLiteral("100"));
    // The retry window and the free-space floor of the retry work on main (issue 22): a
    // server that does not know them yet warns and goes on.
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_WINDOW"), QStringLiteral("600"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_MIN_FREE"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_MAX_FILE_SIZE"), QString::number(MaxFileSize));
    env.insert(QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS"), QStringLiteral("3"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    env.insert(QStringLiteral("HERMES_PROGRESS_STEP_PERCENT"), QStringLiteral("5"));
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVAL"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_TEST_RESOLVER_FAIL"), m_resolverFlag);
    QString preload = QStringLiteral(HERMES_RESOLVER_FAULT_LIB);
    if (m_nodes[size_t(i)].faketime) {
        // libfaketime itself rather than the faketime program, which forks: the pid the test
        // signals must be the server's. Only the wall clock jumps (as NTP makes it jump);
        // monotonic time goes on, as the kernel guarantees. The file is read every second.
        preload += u':' + m_faketimeLib;
        env.insert(QStringLiteral("FAKETIME_TIMESTAMP_FILE"), m_clockFile);
        env.insert(QStringLiteral("FAKETIME_DONT_FAKE_MONOTONIC"), QStringLiteral("1"));
        env.insert(QStringLiteral("FAKETIME_CACHE_DURATION"), QStringLiteral("1"));
    }
    env.insert(QStringLiteral("LD_PRELOAD"), preload);
    // A preloaded library comes before the sanitizer runtime, which ASan refuses by default;
    // neither preload intercepts what ASan does.
    const QString asan = qEnvironmentVariable("ASAN_OPTIONS");
    env.insert(QStringLiteral("ASAN_OPTIONS"),
               (asan.isEmpty() ? QString() : asan + u':') + QStringLiteral("verify_asan_link_order=0"));
    if (m_config.postgres) {
        env.insert(QStringLiteral("HERMES_DATABASE_URL"), m_postgres->url(m_database));
        env.insert(QStringLiteral("HERMES_REDIS_URL"), m_redis->url());
        env.insert(QStringLiteral("HERMES_REDIS_STREAM_LENGTH"), QStringLiteral("1000000"));
    }
    return env;
}

bool ModelRun::startNode(int i)
{
    Node &n = m_nodes[size_t(i)];
    if (!n.process)
        n.process = std::make_unique<ServerProcess>();
    ++n.starts;
    if (!n.process->start(nodeEnv(i))) {
        n.state = Node::State::Down;
        fail(Check::Run, QStringLiteral("node %1 did not start: %2; its log ends with: %3")
                 .arg(i).arg(n.process->errorString(), QString::fromUtf8(n.process->output().right(1500))));
        return false;
    }
    n.state = Node::State::Up;
    return true;
}

bool ModelRun::setUp()
{
    if (!prepareSandbox())
        return false;
    m_origin = std::make_unique<Origin>(quint32(m_limits.seed ^ (m_limits.seed >> 32)));
    static const char *const names[] = {"alpha.bin", "bravo.iso", "charlie.tar.gz", "delta",
                                        "echo.txt", "foxtrot.bin", "golf.dat", "hotel.img"};
    for (int i = 0; i < 8; ++i) {
        const Draws d = draws();
        const QByteArray path = QByteArray("/files/") + names[i];
        const qint64 size = 150 * 1024 + d[0] % (1700 * 1024);
        // One file without Range support (a takeover restarts it from zero), the others with.
        m_origin->addFile(path, size, Origin::Validators(d[1] % 4), i != 3, 300 * 1024 + d[2] % (700 * 1024));
        m_files << path;
    }
    m_hugePath = "/files/huge.bin";
    m_origin->addFile(m_hugePath, MaxFileSize + 300 * 1024, Origin::Validators::StrongEtag, true, 2 << 20);
    if (m_config.postgres) {
        m_postgres = std::make_unique<PostgresProcess>();
        m_redis = std::make_unique<RedisProcess>();
        if (!m_postgres->start() || (m_database = m_postgres->createDatabase()).isEmpty()) {
            fail(Check::Run, QStringLiteral("PostgreSQL: ") + m_postgres->errorString());
            return false;
        }
        m_postgresUp = true;
        if (!m_redis->start()) {
            fail(Check::Run, QStringLiteral("redis-server: ") + m_redis->errorString());
            return false;
        }
    }
    m_nodes.resize(size_t(m_config.nodes));
    // The last node runs on a wall clock the test steps (see nodeEnv()).
    m_nodes.back().faketime = enabled(Nemesis::ClockStep);
    for (int i = 0; i < m_config.nodes; ++i) {
        if (!startNode(i))
            return false;
    }
    m_recorder = std::make_unique<EventRecorder>([this] { return answeringPorts(); }, Bearer);
    m_recorder->start();
    if (!QTest::qWaitFor([this] { return m_recorder->events() > 0; }, 10000)) {
        fail(Check::Run, QStringLiteral("the event stream did not connect"));
        return false;
    }
    return probe();
}

// One plain download through the preloaded resolver before the faults: the deployment works.
bool ModelRun::probe()
{
    DownloadRecord r;
    r.path = m_files.first();
    r.url = m_origin->url(QStringLiteral("probe.origin.hermes.test"), r.path);
    r.sha = DownloadRecord::Sha::Correct;
    r.sha256 = QString::fromLatin1(m_origin->current(r.path).sha256);
    r.createdMs = wallMs();
    const HttpReply reply = api(0, "POST", "/api/v1/downloads",
                                QJsonDocument(QJsonObject{{QStringLiteral("url"), r.url},
                                                          {QStringLiteral("sha256"), r.sha256}}).toJson(QJsonDocument::Compact),
                                10000);
    r.id = jsonObject(reply.body).value(QStringLiteral("id")).toString();
    if (reply.status != 201 || r.id.isEmpty()) {
        fail(Check::Run, QStringLiteral("the probe download was refused: HTTP %1 %2").arg(reply.status).arg(QString::fromUtf8(reply.body)));
        return false;
    }
    log(QStringLiteral("add #0 %1 %2 (the probe)").arg(r.id, r.url));
    m_downloads.append(r);
    QJsonObject row;
    const bool done = QTest::qWaitFor([&] {
        m_recorder->poll();
        row = jsonObject(api(0, "GET", "/api/v1/downloads/" + r.id.toLatin1()).body);
        return row.value(QStringLiteral("status")).toString() == u"completed";
    }, 40000);
    if (!done)
        fail(Check::Run, QStringLiteral("the probe download %1 (%2) did not complete within 40 s (resolver preload, origin): %3")
                 .arg(r.id, r.url, QString::fromUtf8(QJsonDocument(row).toJson(QJsonDocument::Compact))));
    return done;
}

void ModelRun::tearDown()
{
    m_recorder.reset();
    for (Node &n : m_nodes) {
        if (n.process && n.process->process().state() != QProcess::NotRunning) {
            ::kill(pid_t(n.process->process().processId()), SIGCONT);
            n.process->kill();
        }
    }
    m_nodes.clear();
    m_origin.reset();
    m_redis.reset();
    m_postgres.reset();
    if (m_tmpfs) {
        if (QProcess::execute(QStringLiteral("umount"), {m_downloadDir}) != 0)
            QProcess::execute(QStringLiteral("umount"), {QStringLiteral("-l"), m_downloadDir});
        m_tmpfs = false;
    }
}

// --- talking to the nodes ------------------------------------------------------------------

QList<quint16> ModelRun::answeringPorts() const
{
    QList<quint16> out;
    for (const Node &n : m_nodes) {
        if (n.process && n.state == Node::State::Up)
            out << n.process->port();
    }
    return out;
}

int ModelRun::pickNode(quint32 draw) const
{
    QList<int> up;
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        if (m_nodes[size_t(i)].state == Node::State::Up)
            up << i;
    }
    return up.isEmpty() ? -1 : up.at(int(draw % quint32(up.size())));
}

HttpReply ModelRun::api(int node, const QByteArray &method, const QByteArray &path, const QByteArray &body, int timeoutMs)
{
    const HttpReply reply = httpRequest(m_nodes[size_t(node)].process->port(), method, path,
                                        {{"Authorization", Bearer}, {"Content-Type", "application/json"}}, body, timeoutMs);
    if (reply.status == 0)
        noteSilence(node);
    return reply;
}

void ModelRun::noteSilence(int i)
{
    Node &n = m_nodes[size_t(i)];
    if (n.state != Node::State::Up || n.process->process().state() == QProcess::NotRunning)
        return; // not expected to answer, or dead (checkProcesses() says so)
    // Twice, so that a loaded machine is not taken for a hang.
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (httpRequest(n.process->port(), "GET", "/livez", {}, {}, 2500).status == 200)
            return; // slow on that request only
    }
    n.state = Node::State::Hung;
    const QList<QByteArray> lines = n.process->output().trimmed().split('\n');
    log(QStringLiteral("node %1 hung").arg(i));
    fail(Check::Status, QStringLiteral("node %1 (pid %2) stopped answering, not even /livez twice within 2.5 s: its event loop "
                                       "is blocked (the test leaves it so); its last lines: %3")
                            .arg(i).arg(n.process->process().processId())
                            .arg(QString::fromUtf8(lines.mid(qMax<qsizetype>(0, lines.size() - 4)).join(" | "))));
}

bool ModelRun::allHung() const
{
    return std::all_of(m_nodes.cbegin(), m_nodes.cend(), [](const Node &n) { return n.state == Node::State::Hung; });
}

QString ModelRun::lastSeenStatus(const DownloadRecord &r) const
{
    const QList<SeenChange> t = m_recorder->transitions(r.id);
    return t.isEmpty() ? QStringLiteral("pending") : t.last().status;
}

void ModelRun::checkProcesses()
{
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        Node &n = m_nodes[size_t(i)];
        if (n.state == Node::State::Down || n.process->process().state() != QProcess::NotRunning)
            continue;
        // Nobody killed it: a crash (a sanitizer report, an abort) is a failure of its own.
        fail(Check::Run, QStringLiteral("node %1 exited by itself (exit code %2); its log ends with: %3")
                 .arg(i).arg(n.process->process().exitCode())
                 .arg(QString::fromUtf8(n.process->output().right(2000))));
        log(QStringLiteral("node %1 exited by itself: restart").arg(i));
        startNode(i);
    }
}

// --- the operations ------------------------------------------------------------------------

void ModelRun::step()
{
    const Draws d = draws();
    const quint32 what = d[0] % 100;
    if (what < 20)
        injectFault(d);
    else if (what < 55)
        addDownload(d);
    else if (what < 57)
        addPartName(d);
    else if (what < 87)
        control(d);
    // else: a quiet step
    QTest::qWait(int(40 + d[9] % 300));
}

void ModelRun::addDownload(const Draws &d)
{
    // Enough downloads to keep every node busy, bounded so that a short run can finish them.
    if (m_downloads.size() >= qMin<qint64>(600, 10 + m_limits.seconds * 2))
        return;
    static const QStringList requestedNames{
        QStringLiteral("same.bin"), QStringLiteral("report.pdf"), QStringLiteral("ünïcode näme.txt"),
        QStringLiteral("../up/../escape.bin"), QStringLiteral("same.bin"), QStringLiteral("x")};
    DownloadRecord r;
    r.index = int(m_downloads.size());
    const quint32 kind = d[1] % 100;
    r.path = kind < 4 ? "/files/missing-" + QByteArray::number(r.index) + ".bin"
           : kind < 8 ? m_hugePath
                      : m_files.at(int(d[2] % quint32(m_files.size())));
    if (d[3] % 100 < 25)
        r.requestedName = requestedNames.at(int(d[3] / 100 % quint32(requestedNames.size())));
    const quint32 sha = d[4] % 100;
    if (sha < 20 && m_origin->serves(r.path)) {
        r.sha = DownloadRecord::Sha::Correct;
        r.sha256 = QString::fromLatin1(m_origin->current(r.path).sha256);
    } else if (sha < 28) {
        r.sha = DownloadRecord::Sha::Wrong;
        r.sha256 = QString::fromLatin1(sha256Hex("wrong " + QByteArray::number(r.index)));
    }
    const bool willPlant = (enabled(Nemesis::PlantSymlink) || enabled(Nemesis::PlantFifo)) && d[6] % 100 < 20;
    // Below every other download, so that it waits in the queue while the test plants.
    const int priority = willPlant ? -5 : int(d[5] % 3);
    // A host name of its own: Qt caches a lookup per name, so each download asks the resolver.
    r.url = m_origin->url(QStringLiteral("d%1.origin.hermes.test").arg(r.index), r.path);
    const int node = pickNode(d[7]);
    if (node < 0)
        return;
    QJsonObject request{{QStringLiteral("url"), r.url}, {QStringLiteral("priority"), priority}};
    if (!r.requestedName.isEmpty())
        request.insert(QStringLiteral("filename"), r.requestedName);
    if (!r.sha256.isEmpty())
        request.insert(QStringLiteral("sha256"), r.sha256);
    r.createdMs = wallMs();
    const HttpReply reply = api(node, "POST", "/api/v1/downloads", QJsonDocument(request).toJson(QJsonDocument::Compact));
    if (reply.status == 201) {
        r.id = jsonObject(reply.body).value(QStringLiteral("id")).toString();
    } else if (reply.status == 0 || reply.status >= 500) {
        r.addUncertain = true; // it may exist: the final listing finds it by its URL
    }
    static const char *const shaKinds[] = {"none", "correct", "wrong"};
    log(QStringLiteral("add #%1 via node %2 -> HTTP %3 prio=%4 sha=%5 %6 %7 name=%8")
            .arg(r.index).arg(node).arg(reply.status).arg(priority)
            .arg(QLatin1StringView(shaKinds[int(r.sha)]), r.id, r.url, r.requestedName));
    if (reply.status != 201 && !r.addUncertain && reply.status != 503)
        fail(Check::Run, QStringLiteral("add #%1 (%2) got HTTP %3: %4").arg(r.index).arg(r.url).arg(reply.status).arg(QString::fromUtf8(reply.body)));
    m_downloads.append(r);
    if (willPlant && !r.id.isEmpty()) {
        const bool fifo = enabled(Nemesis::PlantFifo) && (!enabled(Nemesis::PlantSymlink) || d[6] / 100 % 3 == 0);
        const Nemesis kind = fifo ? Nemesis::PlantFifo : Nemesis::PlantSymlink;
        if (plant(kind, &m_downloads.last(), d[8]))
            ++m_faults[size_t(kind)];
    }
}

// A request that names a part file: its name would be another download's part file.
void ModelRun::addPartName(const Draws &d)
{
    QList<int> known;
    for (const DownloadRecord &r : std::as_const(m_downloads)) {
        if (!r.id.isEmpty())
            known << r.index;
    }
    const int node = pickNode(d[7]);
    // Hostile names go with the hostile Content-Disposition (HERMES_MODEL_NEMESES=-disposition).
    if (known.isEmpty() || node < 0 || m_downloads.size() >= 600 || !enabled(Nemesis::Disposition))
        return;
    const DownloadRecord &other = m_downloads.at(known.at(int(d[1] % quint32(known.size()))));
    DownloadRecord r;
    r.index = int(m_downloads.size());
    r.path = m_files.at(int(d[2] % quint32(m_files.size())));
    r.requestedName = other.id + (d[3] % 2 ? QStringLiteral(".part") : QStringLiteral(".1.part"));
    r.url = m_origin->url(QStringLiteral("d%1.origin.hermes.test").arg(r.index), r.path);
    r.createdMs = wallMs();
    const QJsonObject request{{QStringLiteral("url"), r.url}, {QStringLiteral("filename"), r.requestedName}};
    const HttpReply reply = api(node, "POST", "/api/v1/downloads", QJsonDocument(request).toJson(QJsonDocument::Compact));
    log(QStringLiteral("add #%1 via node %2 with the part-file name %3 -> HTTP %4")
            .arg(r.index).arg(node).arg(r.requestedName).arg(reply.status));
    if (reply.status == 400)
        return; // refused, as it should be: nothing was added
    if (reply.status == 201) {
        r.id = jsonObject(reply.body).value(QStringLiteral("id")).toString();
        fail(Check::Directory, QStringLiteral("add #%1 with the part-file name \"%2\" was accepted (201, %3): a finished file "
                            "under that name is what download %4 would resume from")
                 .arg(r.index).arg(r.requestedName, r.id, other.id));
    } else {
        r.addUncertain = true;
    }
    m_downloads.append(r);
}

void ModelRun::control(const Draws &d)
{
    static const char *const actions[] = {"pause", "resume", "cancel", "retry"};
    const quint32 a = d[1] % 100;
    const int action = a < 32 ? 0 : a < 64 ? 1 : a < 76 ? 2 : 3;
    QList<int> candidates;
    for (const DownloadRecord &r : std::as_const(m_downloads)) {
        if (r.id.isEmpty())
            continue;
        const QString s = lastSeenStatus(r);
        const bool fits = action == 0 ? (s == u"pending" || s == u"downloading")
                        : action == 1 ? r.lastAction == u"pause"
                        : action == 2 ? (s != u"completed" && s != u"cancelled")
                                      : (s == u"failed" || s == u"cancelled");
        if (fits)
            candidates << r.index;
    }
    const int node = pickNode(d[3]);
    if (candidates.isEmpty() || node < 0)
        return;
    DownloadRecord &r = m_downloads[candidates.at(int(d[2] % quint32(candidates.size())))];
    const QByteArray name = actions[action];
    const HttpReply reply = api(node, "POST", "/api/v1/downloads/" + r.id.toLatin1() + '/' + name);
    log(QStringLiteral("%1 #%2 %3 via node %4 -> HTTP %5 %6")
            .arg(QString::fromLatin1(name)).arg(r.index).arg(r.id).arg(node).arg(reply.status)
            .arg(jsonObject(reply.body).value(QStringLiteral("status")).toString()));
    if (reply.status == 200)
        r.lastAction = QString::fromLatin1(name);
    else if (reply.status != 409)
        r.actionUncertain = true; // no answer, or 503: it may have been applied
}

} // namespace DlModel
