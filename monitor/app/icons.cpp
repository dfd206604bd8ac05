#include "icons.h"

#include <QFile>
#include <QHash>

// The icons live in this static library's resources, which the linker keeps only when
// something refers to them.
static void initResources()
{
    static const bool done = [] {
        Q_INIT_RESOURCE(resources);
        return true;
    }();
    Q_UNUSED(done);
}

namespace Hermes::Icons {

QIcon named(const char *name)
{
    initResources();
    const QString n = QString::fromLatin1(name);
    return QIcon::fromTheme(n, QIcon(QStringLiteral(":/icons/%1.svg").arg(n)));
}

QIcon status(const QString &status)
{
    initResources();
    static QHash<QString, QIcon> cache;
    auto it = cache.find(status);
    if (it == cache.end()) {
        const QString file = QStringLiteral(":/icons/status-%1.svg").arg(status);
        it = cache.insert(status, QIcon(QFile::exists(file) ? file
                                                            : QStringLiteral(":/icons/status-%1.svg").arg(wireName(DownloadStatus::Pending))));
    }
    return *it;
}

QIcon status(DownloadStatus status)
{
    return Icons::status(QString(wireName(status)));
}

} // namespace Hermes::Icons
