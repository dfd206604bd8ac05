#include "downloads/diskwaits.h"

#include "pooltask.h"

namespace Hermes::DiskWaits {

QThreadPool &threads()
{
    static QThreadPool *pool = newLastingPool(QStringLiteral("hermes-disk-waits"), MaxThreads);
    return *pool;
}

} // namespace Hermes::DiskWaits
