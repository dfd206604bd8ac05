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
/// The `n`-th variant of `name` for when it is taken: `a.tar.gz` → `a (n).tar.gz` (the number
/// goes before every extension), `noext` → `noext (n)`; `n` 0 is `name` itself.
QString numbered(const QString &name, int n);

} // namespace Hermes::FileNames
