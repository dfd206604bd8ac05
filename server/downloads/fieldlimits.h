#pragma once

#include "result.h"

#include <QString>

#include <optional>

namespace Hermes::FieldLimits {

/**
 * The largest value of each string a download stores that a client chooses: the one place
 * these numbers are (the OpenAPI document states them too, and tst_memorybudget checks both
 * agree with what the routes answer). A stored string is carried by every event about its
 * download and by every list answer, so it is bounded here and not by the body limit alone.
 * The body itself is bounded by HERMES_HTTP_MAX_BODY_SIZE (413), a publish by
 * HERMES_MAX_PUBLISH_BYTES (413).
 */

/// A download URL, as given and as stored (percent-encoded): browsers and servers commonly
/// stop at 8 KiB (nginx's large_client_header_buffers, Apache's LimitRequestLine).
constexpr qsizetype UrlBytes = 8 * 1024;
/// A file name a client asks for, in UTF-8 bytes: NAME_MAX of Linux file systems. (What is
/// stored is sanitized to 200 bytes, FileNames::sanitize(); a longer request is refused, not
/// cut, so the client learns its name was not used as given.)
constexpr qsizetype FileNameBytes = 255;
/// An expected SHA-256: exactly this many hexadecimal digits.
constexpr qsizetype Sha256HexDigits = 64;

/// `field_too_long` (400) naming `field` when `value` has more than `maxBytes` bytes of UTF-8.
inline std::optional<Error> tooLong(const char *field, const QString &value, qsizetype maxBytes)
{
    // A UTF-16 unit is at most 3 bytes of UTF-8: most values are decided without converting.
    if (value.size() * 3 <= maxBytes)
        return std::nullopt;
    const qsizetype bytes = value.toUtf8().size();
    if (bytes <= maxBytes)
        return std::nullopt;
    return Error::invalid("field_too_long", QStringLiteral("%1 is %2 bytes long; at most %3 are accepted")
                                                .arg(QLatin1String(field)).arg(bytes).arg(maxBytes));
}

} // namespace Hermes::FieldLimits
