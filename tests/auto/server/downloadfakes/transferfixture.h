#pragma once

// What the Transfer suites share: a temporary download dir, a real local origin, and a
// transfer started (or run to its end) with its reports collected.

#include "fileserver.h"

#include "downloads/transfer.h"

#include <QFile>
#include <QNetworkAccessManager>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace Hermes::Test {

class TransferFixture
{
protected:
    struct Run
    {
        std::unique_ptr<Transfer> transfer;
        QList<TransferResult> results;
        int started = 0;
        qint64 received = 0;
    };

    void setUp()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        m_files = std::make_unique<FileServer>();
    }
    void tearDown()
    {
        m_files.reset();
        m_dir.reset();
    }

    /// A download as its claim (lease generation 1) hands it to a transfer; what it resumes
    /// from is generation 0's file (writePart).
    Download download(const QString &url, qint64 downloadedBytes = 0, qint64 totalBytes = -1)
    {
        Download d;
        d.id = QStringLiteral("d%1").arg(m_ids++);
        d.url = url;
        d.filename = QStringLiteral("file.bin");
        d.status = DownloadStatus::Downloading;
        d.downloadedBytes = downloadedBytes;
        d.totalBytes = totalBytes;
        d.leaseGeneration = 1;
        return d;
    }
    static Transfer::Limits defaultLimits() { return {10, 0, 1.0, 500, {}}; }
    std::unique_ptr<Run> start(const Download &d, const Transfer::Limits &limits = defaultLimits(),
                               Transfer::Clock clock = {})
    {
        auto r = std::make_unique<Run>();
        r->transfer = std::make_unique<Transfer>(d, DownloadDir(m_dir->path()), limits, &m_network);
        if (clock)
            r->transfer->setClock(std::move(clock));
        Run *raw = r.get();
        Transfer *t = r->transfer.get();
        QObject::connect(t, &Transfer::started, t, [raw] { ++raw->started; });
        QObject::connect(t, &Transfer::received, t, [raw](qint64 n) { raw->received += n; });
        QObject::connect(t, &Transfer::ended, t, [raw](const TransferResult &result) { raw->results.append(result); });
        t->start();
        return r;
    }
    /// Starts a transfer of `d` with `limits` and waits for its result.
    std::unique_ptr<Run> run(const Download &d, const Transfer::Limits &limits = defaultLimits(),
                             Transfer::Clock clock = {})
    {
        auto r = start(d, limits, std::move(clock));
        if (!waitEnded(*r))
            qWarning() << "the transfer did not end";
        QTest::qWait(50); // nothing more may come
        return r;
    }
    static bool waitEnded(const Run &run) { return QTest::qWaitFor([&] { return !run.results.isEmpty(); }, 20000); }
    /// The part file of lease generation `generation` (the transfer's own: 1).
    QString partPath(const QString &id, qint64 generation = 1) const
    {
        return m_dir->filePath(DownloadDir::partName(id, generation));
    }
    QByteArray part(const QString &id, qint64 generation = 1) const
    {
        QFile f(partPath(id, generation));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    /// The saved bytes, in the generation that saved them (0).
    void writePart(const QString &id, const QByteArray &bytes) const
    {
        QFile f(partPath(id, 0));
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
            qWarning() << "cannot write" << f.fileName();
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<FileServer> m_files;
    QNetworkAccessManager m_network;
    int m_ids = 0;
};

} // namespace Hermes::Test
