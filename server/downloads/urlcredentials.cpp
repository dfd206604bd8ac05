#include "downloads/urlcredentials.h"

namespace Hermes::UrlCredentials {

QUrl withoutUserInfo(const QUrl &url)
{
    QUrl out = url;
    out.setUserInfo(QString());
    return out;
}

QByteArray basicAuthorization(const QUrl &url)
{
    if (url.userName().isEmpty() && url.password().isEmpty())
        return {};
    const QByteArray pair = url.userName(QUrl::FullyDecoded).toUtf8() + ':'
        + url.password(QUrl::FullyDecoded).toUtf8();
    return "Basic " + pair.toBase64();
}

bool sameOrigin(const QUrl &a, const QUrl &b)
{
    const auto defaultPort = [](const QUrl &u) { return u.scheme() == u"https" ? 443 : 80; };
    return a.scheme().compare(b.scheme(), Qt::CaseInsensitive) == 0
        && a.host().compare(b.host(), Qt::CaseInsensitive) == 0
        && a.port(defaultPort(a)) == b.port(defaultPort(b));
}

QString redacted(const QString &url)
{
    // On the text, not through QUrl: the rest of the URL stays exactly as stored, and even a
    // URL QUrl would not parse has its userinfo hidden. The authority runs from "//" to the
    // first of "/?#"; its userinfo ends at its last '@'.
    const qsizetype slashes = url.indexOf(QStringLiteral("//"));
    if (slashes < 0)
        return url;
    const qsizetype from = slashes + 2;
    qsizetype to = from;
    while (to < url.size() && url[to] != u'/' && url[to] != u'?' && url[to] != u'#')
        ++to;
    const qsizetype at = url.lastIndexOf(u'@', to - 1);
    if (at < from)
        return url;
    // The user name stays where a password is there to hide (it tells accounts apart); alone
    // it is hidden, for it is then often the secret itself.
    const qsizetype colon = url.indexOf(u':', from);
    const bool hasPassword = colon >= 0 && colon < at;
    const QString shown = hasPassword ? url.mid(from, colon - from) + QStringLiteral(":***") : QStringLiteral("***");
    return url.left(from) + shown + url.mid(at);
}

} // namespace Hermes::UrlCredentials
