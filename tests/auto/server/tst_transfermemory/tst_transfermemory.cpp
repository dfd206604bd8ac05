// A large download through the real hermes-server in bounded memory: a 512 MiB file (sparse,
// served by Caddy's file server) with its SHA-256 checked, while the server's RSS is sampled
// every 20 ms. Before Transfer bounded its reply's read buffer, the bytes piled up in the
// reply whenever the main thread (or the disk) was slower than the loopback network: the RSS
// grew by about the file's size (1.46 GiB for 1 GiB, issue 27). Now Qt's HTTP thread holds at
// most 1 MiB of it and TCP holds the origin back: the growth must stay under 64 MiB.
//
// Caddy is required (scripts/common.sh installs it; a missing caddy fails the suite).

#include "downloadapi.h"
#include "downloads/sha256.h"
#include "processstats.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

static constexpr qint64 FileSize = 512LL * 1024 * 1024;
static constexpr qint64 BoundKb = 64 * 1024;

class tst_TransferMemory : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void largeDownloadInBoundedMemory();

private:
    QTemporaryDir m_root;
    QProcess m_caddy;
    quint16 m_caddyPort = 0;
};

void tst_TransferMemory::initTestCase()
{
    QVERIFY(m_root.isValid());
    QVERIFY(QDir(m_root.path()).mkpath(QStringLiteral("www")));
    QVERIFY(QDir(m_root.path()).mkpath(QStringLiteral("home")));
    // Sparse: no disk for the source; its bytes are zeros.
    QFile big(m_root.filePath(QStringLiteral("www/big.bin")));
    QVERIFY(big.open(QIODevice::WriteOnly) && big.resize(FileSize));
    big.close();
    QFile small(m_root.filePath(QStringLiteral("www/small.bin")));
    QVERIFY(small.open(QIODevice::WriteOnly) && small.resize(1024 * 1024));
    small.close();

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Caddy keeps state under HOME/XDG dirs: a private one, never the host's.
    env.insert(QStringLiteral("HOME"), m_root.filePath(QStringLiteral("home")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_root.filePath(QStringLiteral("home/data")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_root.filePath(QStringLiteral("home/config")));
    m_caddy.setProcessEnvironment(env);
    m_caddy.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_caddyPort = freePort();
    m_caddy.start(QStringLiteral("caddy"), {QStringLiteral("file-server"), QStringLiteral("--root"),
                                            m_root.filePath(QStringLiteral("www")), QStringLiteral("--listen"),
                                            QStringLiteral("127.0.0.1:%1").arg(m_caddyPort)});
    QVERIFY2(m_caddy.waitForStarted(10000), "caddy is not installed or does not start (apt-get install caddy)");
    QVERIFY2(QTest::qWaitFor([this] {
                 return httpRequest(m_caddyPort, "GET", "/small.bin", {}, {}).status == 200;
             }, 10000),
             "caddy does not answer");
}

void tst_TransferMemory::cleanupTestCase()
{
    if (m_caddy.state() != QProcess::NotRunning) {
        m_caddy.terminate();
        if (!m_caddy.waitForFinished(5000)) {
            m_caddy.kill();
            m_caddy.waitForFinished(5000);
        }
    }
}

void tst_TransferMemory::largeDownloadInBoundedMemory()
{
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    // Under AddressSanitizer, freed blocks wait in its quarantine (256 MiB by default) before
    // they are reused: resident, though freed. A small quarantine measures what is held.
    const QString asan = qEnvironmentVariable("ASAN_OPTIONS");
    env.insert(QStringLiteral("ASAN_OPTIONS"),
               (asan.isEmpty() ? QString() : asan + u':') + QStringLiteral("quarantine_size_mb=8:thread_local_quarantine_size_kb=256"));
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    const qint64 pid = server.process().processId();
    const QString base = QStringLiteral("http://127.0.0.1:%1").arg(m_caddyPort);

    // A first small download: the network thread, the store's statements and the pools exist
    // before the baseline is taken.
    const QString warm = DownloadApi::add(server, {{QStringLiteral("url"), base + QStringLiteral("/small.bin")}})
                             .value(QStringLiteral("id")).toString();
    QVERIFY(DownloadApi::waitStatus(server, warm, QStringLiteral("completed"), 30000));
    QTest::qWait(200);
    const qint64 baseline = rssKb(pid);
    QVERIFY(baseline > 0);

    Sha256 zeros; // the file's digest: FileSize zero bytes
    const QByteArray block(1024 * 1024, '\0');
    for (qint64 at = 0; at < FileSize; at += block.size())
        zeros.add(block.constData(), block.size());
    QElapsedTimer timer;
    timer.start();
    const QString id = DownloadApi::add(server, {{QStringLiteral("url"), base + QStringLiteral("/big.bin")},
                                                 {QStringLiteral("sha256"), zeros.hex()}})
                           .value(QStringLiteral("id")).toString();
    QVERIFY(!id.isEmpty());
    qint64 peak = baseline;
    QString status;
    const bool ended = QTest::qWaitFor([&] {
        peak = qMax(peak, rssKb(pid));
        status = DownloadApi::get(server, id).value(QStringLiteral("status")).toString();
        return status == QLatin1String("completed") || status == QLatin1String("failed");
    }, 120000);
    const qint64 elapsedMs = timer.elapsed();
    QVERIFY2(ended, "the download did not end in 120 s");
    QTest::qWait(500);
    const qint64 after = rssKb(pid);
    qInfo("%lld MiB in %lld ms: RSS %lld KB at the start, peak %lld KB (+%lld), %lld KB after",
          FileSize >> 20, elapsedMs, baseline, peak, peak - baseline, after);
    QCOMPARE(status, QStringLiteral("completed")); // the SHA-256 matched
    QCOMPARE(QFileInfo(server.dataDir() + QStringLiteral("/downloads/big.bin")).size(), FileSize);
    QVERIFY2(peak - baseline < BoundKb,
             qPrintable(QStringLiteral("the RSS grew by %1 KB during the download (bound %2 KB)").arg(peak - baseline).arg(BoundKb)));
    QVERIFY2(after - baseline < BoundKb / 4,
             qPrintable(QStringLiteral("the RSS stayed %1 KB above the start after the download").arg(after - baseline)));
}

QTEST_MAIN(tst_TransferMemory)
#include "tst_transfermemory.moc"
