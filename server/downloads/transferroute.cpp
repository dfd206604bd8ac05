#include "downloads/transferroute.h"

#include "downloads/urlcredentials.h"

#include <QHostInfo>
#include <QNetworkReply>

namespace Hermes {

TransferRoute::TransferRoute(const QUrl &url, int maxRedirects, Refusal refusal, QObject *parent)
    : QObject(parent), m_origin(UrlCredentials::withoutUserInfo(url)),
      m_authorization(UrlCredentials::basicAuthorization(url)), m_current(m_origin),
      m_maxRedirects(maxRedirects), m_refusal(std::move(refusal))
{
}

TransferRoute::~TransferRoute()
{
    cancel();
}

// Read and written in the routes' thread (the engine's); a test sets it before any route runs.
TransferRoute::Resolver &TransferRoute::resolverOverride()
{
    static Resolver resolver;
    return resolver;
}

void TransferRoute::cancel()
{
    if (m_lookup >= 0)
        QHostInfo::abortHostLookup(m_lookup);
    m_lookup = -1;
    ++m_attempt;
}

QNetworkRequest TransferRoute::requestFor(const QHostAddress &address) const
{
    QUrl target = m_current;
    QNetworkRequest request;
    if (!address.isNull()) {
        // Pinned: Qt connects to the address that was checked and resolves nothing itself.
        // The origin still sees its name (Host), and TLS sends it (SNI) and verifies the
        // certificate against it, not against the address.
        target.setHost(address.toString());
        request.setRawHeader("Host", m_current.authority(QUrl::FullyEncoded).toUtf8());
        request.setPeerVerifyName(m_current.host(QUrl::FullyEncoded));
    }
    // HTTP/1.1 always, as aria2 and wget speak. Pinned, Qt's HTTP/2 would drop the Host header
    // and send :authority from the URL, the address: a virtual host or a CDN would answer for
    // another site. And the bound that makes a slow disk hold the origin back (Transfer:
    // setReadBufferSize) is Qt's HTTP/1.1 channel leaving the socket unread; its HTTP/2 code
    // is not known to tie the stream's flow-control window to that buffer.
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setUrl(target);
    // No cookie jar between downloads: a session cookie one origin set for a credentialed
    // download would otherwise go to every later download from it (and, pinned, to every
    // name behind that address), whoever asked for those.
    request.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    // Redirects come back here (follow): Qt would carry every header, Authorization too, to
    // wherever the Location points, and would connect without a check.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (!m_authorization.isEmpty() && UrlCredentials::sameOrigin(m_current, m_origin))
        request.setRawHeader("Authorization", m_authorization);
    return request;
}

void TransferRoute::prepare(Ready ready)
{
    cancel();
    if (!m_refusal)
        return ready(requestFor({}));
    const QString host = m_current.host();
    if (const Resolver &resolver = resolverOverride()) {
        QHostInfo info;
        info.setAddresses(resolver(host));
        // Answered later, as the system's resolver does.
        QMetaObject::invokeMethod(this, [this, host, info, ready, attempt = m_attempt] {
            if (attempt == m_attempt)
                resolved(host, info, ready);
        }, Qt::QueuedConnection);
        return;
    }
    m_lookup = QHostInfo::lookupHost(host, this, [this, host, ready](const QHostInfo &info) {
        m_lookup = -1;
        resolved(host, info, ready);
    });
}

void TransferRoute::resolved(const QString &host, const QHostInfo &info, const Ready &ready)
{
    const QList<QHostAddress> addresses = info.addresses();
    if (info.error() != QHostInfo::NoError || addresses.isEmpty()) {
        return ready(Error::unavailable("host_not_found", QStringLiteral("cannot resolve %1: %2")
                                                              .arg(host, info.errorString())));
    }
    // Every address the name has, not only the one used: a name that also points inside
    // is refused whole (rebinding setups answer with both).
    for (const QHostAddress &address : addresses) {
        if (const QString why = m_refusal(address); !why.isEmpty()) {
            const QString named = QHostAddress(host).isNull()
                ? QStringLiteral("%1 resolves to %2").arg(host, address.toString())
                : address.toString();
            return ready(Error::invalid("blocked_address", QStringLiteral(
                "blocked_address: %1, a %2 address; downloads from private addresses are "
                "refused (HERMES_DOWNLOAD_BLOCK_PRIVATE)").arg(named, why)));
        }
    }
    ready(requestFor(addresses.first()));
}

bool TransferRoute::isRedirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Result<void> TransferRoute::follow(const QNetworkReply *reply)
{
    const QByteArray location = reply->rawHeader("Location");
    if (location.isEmpty())
        return Error::invalid("bad_redirect", QStringLiteral("a redirect without a Location"));
    if (++m_redirects > m_maxRedirects)
        return Error::invalid("too_many_redirects",
                              QStringLiteral("more than %1 redirects").arg(m_maxRedirects));
    // Relative to the hop's own URL (by name, not the pinned address).
    const QUrl next = UrlCredentials::withoutUserInfo(m_current.resolved(QUrl::fromEncoded(location.trimmed())));
    if (!next.isValid() || (next.scheme() != u"http" && next.scheme() != u"https") || next.host().isEmpty())
        return Error::invalid("bad_redirect", QStringLiteral("a redirect to something other than an http(s) URL"));
    if (m_current.scheme() == u"https" && next.scheme() == u"http")
        return Error::invalid("insecure_redirect", QStringLiteral("a redirect from https to http, refused"));
    m_current = next;
    return Result<void>::success();
}

} // namespace Hermes
