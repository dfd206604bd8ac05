#include "protocol/tokenscope.h"

#include "protocol/wirenames.h"

#include <QRegularExpression>

namespace Hermes {

// The scopes without an argument; `download:` is followed by the download's id.
static constexpr WireNames<TokenScope::Kind, 3> Plain{
    {QLatin1StringView("stream"), QLatin1StringView("queue"), QLatin1StringView("system")}};
static constexpr QLatin1StringView DownloadPrefix("download:");

std::optional<TokenScope> TokenScope::parse(QStringView text)
{
    if (const auto kind = Plain.parse(text))
        return TokenScope{*kind, {}};
    if (!text.startsWith(DownloadPrefix))
        return std::nullopt;
    static const QRegularExpression idPattern(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_.:-]{1,128}")));
    const QString id = text.sliced(DownloadPrefix.size()).toString();
    if (!idPattern.match(id).hasMatch())
        return std::nullopt;
    return TokenScope{Kind::Download, id};
}

QString TokenScope::toString() const
{
    if (kind == Kind::Download)
        return DownloadPrefix + downloadId;
    return Plain(kind);
}

QString TokenScope::forms()
{
    QString out;
    for (Kind kind : Plain.values())
        out += Plain(kind) + QStringLiteral(", ");
    return out + DownloadPrefix + QStringLiteral("<id>");
}

} // namespace Hermes
