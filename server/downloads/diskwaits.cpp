#include "downloads/diskwaits.h"

#include <QThreadPool>

namespace Hermes::DiskWaits {

QThreadPool &threads()
{
    static QThreadPool *pool = [] {
        auto *p = new QThreadPool;
        p->setMaxThreadCount(MaxThreads);
        p->setObjectName(QStringLiteral("hermes-disk-waits"));
        return p;
    }();
    return *pool;
}

} // namespace Hermes::DiskWaits
