#pragma once

#include <QDir>
#include <QString>

namespace Hermes {

/**
 * Where a download's bytes go: `<dir>/<id>.part` while it runs, then `<dir>/<name>` once it
 * is verified and moved into place. The one place those paths are spelled.
 */
class DownloadDir final
{
public:
    explicit DownloadDir(QString path = {}) : m_path(std::move(path)) {}

    const QString &path() const { return m_path; }
    /// The part file of download `id` (several nodes sharing the dir find each other's).
    QString partPath(const QString &id) const { return QDir(m_path).filePath(id + QStringLiteral(".part")); }
    /// A finished file named `name` (already sanitized).
    QString filePath(const QString &name) const { return QDir(m_path).filePath(name); }

private:
    QString m_path;
};

} // namespace Hermes
