#pragma once

#include "result.h"

#include <QHostAddress>
#include <QNetworkRequest>
#include <QObject>
#include <QUrl>

#include <functional>

class QHostInfo;
class QNetworkReply;

namespace Hermes {

/**
 * A transfer's way to its file, hop by hop: the request for each hop, and the redirects,
 * followed here rather than by Qt so that every hop is checked and gets only what it may.
 *
 * - **Credentials**: the download URL's `user:password@` goes as an `Authorization: Basic`
 *   header this route computes, on requests to the download's own origin only (scheme, host
 *   and port): never to a redirect's other origin (as curl), and never through Qt's credential
 *   cache, which would hand it to other downloads from the same host and port (UrlCredentials).
 *   A Location's own userinfo is ignored.
 * - **Redirects**: 301, 302, 303, 307 and 308, at most `maxRedirects`, http(s) only, never
 *   from https down to http (Qt's NoLessSafeRedirectPolicy, which this replaces).
 * - **Addresses** (when `refusal` is set, HERMES_DOWNLOAD_BLOCK_PRIVATE): each hop's host is
 *   resolved here, every address it has is judged, and the request goes to the first one, by
 *   address (Host header and TLS name kept): what was checked is what is connected to — a
 *   second answer of the resolver (DNS rebinding) is never asked for. Without `refusal` the
 *   request names the host and Qt resolves it.
 */
class TransferRoute final : public QObject
{
    Q_OBJECT
public:
    /// Why an address is refused; empty: allowed.
    using Refusal = std::function<QString(const QHostAddress &)>;
    using Ready = std::function<void(Result<QNetworkRequest>)>;

    TransferRoute(const QUrl &url, int maxRedirects, Refusal refusal, QObject *parent = nullptr);
    ~TransferRoute() override;

    /// The current hop's URL, without userinfo (the download's own at first).
    QUrl current() const { return m_current; }
    int redirects() const { return m_redirects; }

    /// The request for the current hop, to `ready` (at once when there is nothing to resolve):
    /// the URL to connect to, Host, Authorization where it belongs, manual redirects. Or why
    /// not: `blocked_address: …` (Invalid), the host not resolved (Unavailable: retry).
    void prepare(Ready ready);
    /// A status the route follows (with a Location).
    static bool isRedirect(int status);
    /// Moves to the hop `reply`'s Location names; or why not (Invalid: too many, insecure,
    /// not http(s), no Location).
    Result<void> follow(const QNetworkReply *reply);
    /// Forgets a lookup under way: its answer is dropped.
    void cancel();

private:
    /// Tests only (tst_transferpinning defines it; nothing in the server does): sets the
    /// resolver below. A friend, not a public member, so the seam is no part of what the
    /// server's code can call.
    friend class TransferRouteTestHook;
    /// The addresses a host name has, answered in place of the system's resolver (QHostInfo)
    /// for every route of the process: a test's DNS server that answers the check's lookup
    /// otherwise than a later one. Null: the system's (always, outside that test).
    using Resolver = std::function<QList<QHostAddress>(const QString &host)>;
    static Resolver &resolverOverride();

    QNetworkRequest requestFor(const QHostAddress &address) const;
    void resolved(const QString &host, const QHostInfo &info, const Ready &ready);

    QUrl m_origin;      ///< the download's URL without userinfo: where the credentials go
    QByteArray m_authorization;
    QUrl m_current;
    int m_maxRedirects;
    int m_redirects = 0;
    Refusal m_refusal;
    int m_lookup = -1;
    quint64 m_attempt = 0; ///< counts prepare()s, so an answer to an earlier one is dropped
};

} // namespace Hermes
