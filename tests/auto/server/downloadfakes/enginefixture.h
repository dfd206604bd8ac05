#pragma once

// What the DownloadEngine suites share: a temporary download dir, a real local origin, the
// in-memory store, a fake broker, and an engine made with short retries and leases.

#include "fakebroker.h"
#include "fileserver.h"
#include "memorydownloadstore.h"

#include "downloads/downloadengine.h"

#include <QTemporaryDir>
#include <QTest>

#include <functional>
#include <memory>
#include <optional>

namespace Hermes::Test {

class EngineFixture
{
protected:
    void setUp()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        m_files = std::make_unique<FileServer>();
        m_store = std::make_unique<MemoryDownloadStore>();
        m_broker = std::make_unique<FakeBroker>();
    }
    void tearDown()
    {
        m_engine.reset();
        m_broker.reset();
        m_store.reset();
        m_files.reset();
        m_dir.reset();
    }

    /// An engine with short retries and leases, no disk warning or minimum, and `tweak`s.
    DownloadEngine *makeEngine(const std::function<void(DownloadEngine::Options &)> &tweak = {})
    {
        DownloadEngine::Options options;
        options.downloadDir = dir();
        options.retryBaseMs = 50;
        options.maxAttempts = 3;
        options.leaseMs = 3000;
        options.renewMs = 1000;
        options.diskWarningBytes = 0;
        options.minFreeBytes = 0;
        if (tweak)
            tweak(options);
        m_engine = std::make_unique<DownloadEngine>(options, m_store.get(), m_broker.get());
        m_engine->start();
        return m_engine.get();
    }
    /// Adds `url` through the service: the row as added (empty if that failed within 5 s).
    Download addUrl(const QString &url, const QString &sha256 = {})
    {
        std::optional<Result<Download>> added;
        m_engine->service()->add(url, QString(), 0, sha256, [&](Result<Download> r) { added.emplace(r); });
        if (!QTest::qWaitFor([&] { return added.has_value(); }, 5000) || !*added)
            return {};
        return **added;
    }
    QString dir() const { return m_dir->path(); }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<FileServer> m_files;
    std::unique_ptr<MemoryDownloadStore> m_store;
    std::unique_ptr<FakeBroker> m_broker;
    std::unique_ptr<DownloadEngine> m_engine;
};

} // namespace Hermes::Test
