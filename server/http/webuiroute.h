#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

namespace Hermes {

class HttpExchange;
class HttpServer;

/**
 * The built-in web page (resources/webui/, compiled in): `GET /ui/` and its files, `/` and
 * `/ui` redirecting there. No credential to load it — it holds nothing secret; everything it
 * does goes through the API with the key the user types. Every answer carries a strict
 * Content-Security-Policy (only the server's own scripts, styles and connections; no inline
 * script or style), an ETag, and 304 to a matching If-None-Match. HERMES_WEBUI=0 leaves the
 * routes unregistered (404).
 */
class WebUiRoute final
{
public:
    struct File
    {
        QByteArray body;
        QByteArray contentType;
        QByteArray etag; ///< quoted, from the content's SHA-256
    };

    /// Reads every file under the resource prefix `:/hermes/webui/`.
    WebUiRoute();
    void registerOn(HttpServer *server);

    /// The files by name (`index.html`, `app.js`, …), for tests and the size in the docs.
    const QHash<QString, File> &files() const { return m_files; }
    static QByteArray contentTypeFor(const QString &name);
    /// True when an If-None-Match value names `etag` (a list, weak forms, or `*`).
    static bool matchesEtag(const QByteArray &ifNoneMatch, const QByteArray &etag);
    static const QByteArray ContentSecurityPolicy;

private:
    void serve(HttpExchange &ex, const QString &name) const;

    QHash<QString, File> m_files;
};

} // namespace Hermes
