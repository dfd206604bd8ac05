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

/// A string the origin chooses and a download stores (the reason phrase in an error message,
/// ETag, Last-Modified): cut to this many bytes, since nobody can be asked to send it shorter.
/// Every event about the download and every list row carry them, as they carry the URL.
constexpr qsizetype OriginTextBytes = 1024;

/// `value` cut to at most `maxBytes` bytes of UTF-8, at a character boundary.
inline QString cut(const QString &value, qsizetype maxBytes = OriginTextBytes)
{
    if (value.size() * 3 <= maxBytes)
        return value;
    QByteArray bytes = value.toUtf8();
    if (bytes.size() <= maxBytes)
        return value;
    bytes.truncate(maxBytes);
    if (bytes.isEmpty())
        return {};
    // The last sequence may have been cut: back to its lead byte, and drop it when incomplete.
    qsizetype lead = bytes.size() - 1;
    while (lead > 0 && (uchar(bytes.at(lead)) & 0xC0) == 0x80)
        --lead;
    const uchar first = uchar(bytes.at(lead));
    const qsizetype length = first < 0x80 ? 1 : first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2;
    if (lead + length > bytes.size())
        bytes.truncate(lead);
    return QString::fromUtf8(bytes);
}

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
