#include "downloads/listcursor.h"

#include <QList>
#include <QUuid>

namespace Hermes {

ListCursor ListCursor::after(const Download &d)
{
    return ListCursor{rankOf(d.status, d.priority), d.position, d.id};
}

QByteArray ListCursor::encode() const
{
    const QByteArray plain = QByteArray::number(rank) + '.' + QByteArray::number(position) + '.' + id.toUtf8();
    return plain.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

std::optional<ListCursor> ListCursor::decode(QByteArrayView text)
{
    // An id is a UUID (36 characters); a cursor is never long. Strict decoding: one spelling
    // per cursor, nothing but the base64url alphabet.
    if (text.isEmpty() || text.size() > 128)
        return std::nullopt;
    const auto decoded = QByteArray::fromBase64Encoding(
        text.toByteArray(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    const QList<QByteArray> parts = decoded.decoded.split('.');
    if (parts.size() != 3 || parts[2].isEmpty())
        return std::nullopt;
    bool okRank = false, okPosition = false;
    ListCursor c{parts[0].toLongLong(&okRank), parts[1].toLongLong(&okPosition), QString::fromUtf8(parts[2])};
    if (!okRank || !okPosition || c.rank < 0 || c.rank > FinishedRank + 2000 || c.encode() != text)
        return std::nullopt;
    // The id as this server makes them (a lower-case UUID): anything else (a NUL, which
    // PostgreSQL refuses in a text value) would reach the store and come back a 503.
    if (c.id.size() != 36 || QUuid::fromString(c.id).toString(QUuid::WithoutBraces) != c.id)
        return std::nullopt;
    return c;
}

} // namespace Hermes
