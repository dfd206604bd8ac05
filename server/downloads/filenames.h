#pragma once

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace Hermes::FileNames {

/// Characters no file name keeps: C0, DEL, C1, unpaired surrogates, U+FFFE/U+FFFF, line and
/// paragraph separators and the invisible format characters (Unicode Cf: bidi marks,
/// embeddings, overrides and isolates, zero-width space, BOM, …) except ZWNJ and ZWJ.
bool isInvisibleOrControl(char32_t c);
/// A safe file name from anything a client or a server proposes (the one place both the
/// names given to the API and those derived from a URL or a Content-Disposition go through):
/// only the last path component, none of the isInvisibleOrControl() characters, no leading
/// dots or spaces, no `..`, Windows' reserved device
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
