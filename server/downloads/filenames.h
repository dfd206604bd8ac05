#pragma once

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace Hermes::FileNames {

/// A safe file name from anything a client or a server proposes: only the last path component,
/// no NUL or control characters, no leading dots or spaces, no `..`, Windows' reserved device
/// names (CON, NUL, COM1, …) prefixed with `_`, at most 200 bytes of UTF-8. Empty when nothing
/// usable remains.
QString sanitize(const QString &proposed);
/// The file name from a Content-Disposition header (`filename*=UTF-8''…` preferred), raw.
QString fromContentDisposition(const QByteArray &header);
/// The last path segment of a URL, percent-decoded, raw.
QString fromUrl(const QUrl &url);
/// `dir/name`, or `dir/name (1).ext`, `(2)`… for the first that does not exist yet: an
/// existing file is never overwritten.
QString uniquePath(const QString &dir, const QString &name);

} // namespace Hermes::FileNames
