#include "downloads/directorysync.h"

#include "downloads/diskwaits.h"
#include "pooltask.h"

#include <QCoreApplication>
#include <QPointer>

namespace Hermes {

DirectorySync::DirectorySync(DownloadDir dir, QObject *parent) : QObject(parent), m_dir(std::move(dir)) {}

void DirectorySync::after(std::function<void(int error)> done)
{
    m_waiting.push_back(std::move(done));
    if (!m_syncing)
        startSync();
}

void DirectorySync::startSync()
{
    m_syncing = true;
    auto batch = std::make_shared<std::vector<std::function<void(int)>>>(std::exchange(m_waiting, {}));
    QPointer<DirectorySync> self(this);
    // The dir (its shared descriptor) is copied: it stays open while the task runs.
    startPoolTask(DiskWaits::threads(), [self, dir = m_dir, sync = m_syncer, batch] {
        const int error = sync(dir);
        // Back on the application's thread, where `self` is checked (and its owner lives).
        QMetaObject::invokeMethod(qApp, [self, batch, error] {
            if (!self)
                return;
            self->m_syncing = false;
            ++self->m_syncs;
            for (const auto &done : *batch)
                done(error);
            if (!self->m_waiting.empty() && !self->m_syncing)
                self->startSync();
        }, Qt::QueuedConnection);
    });
}

} // namespace Hermes
