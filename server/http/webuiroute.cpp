#include "http/webuiroute.h"

#include "http/httpexchange.h"
#include "http/httpserver.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFile>

namespace Hermes {

namespace {
const QString ResourceDir = QStringLiteral(":/hermes/webui");
} // namespace

// 'self' only: the page is one origin's files and talks to that origin alone. No inline
// script or style at all (so an injected attribute or <script> does nothing); the page
// frames nothing and may not be framed (clickjacking of the action buttons).
const QByteArray WebUiRoute::ContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

WebUiRoute::WebUiRoute()
{
    QDirIterator it(ResourceDir, QDir::Files);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            continue;
        File f;
        f.body = file.readAll();
        const QString name = path.mid(ResourceDir.size() + 1);
        f.contentType = contentTypeFor(name);
        f.etag = '"' + QCryptographicHash::hash(f.body, QCryptographicHash::Sha256).toHex().left(32) + '"';
        m_files.insert(name, std::move(f));
    }
}

QByteArray WebUiRoute::contentTypeFor(const QString &name)
{
    if (name.endsWith(u".html"))
        return "text/html; charset=utf-8";
    if (name.endsWith(u".js"))
        return "text/javascript; charset=utf-8"; // modules need a JavaScript MIME type
    if (name.endsWith(u".css"))
        return "text/css; charset=utf-8";
    if (name.endsWith(u".svg"))
        return "image/svg+xml";
    if (name.endsWith(u".json"))
        return "application/json";
    return "application/octet-stream";
}

bool WebUiRoute::matchesEtag(const QByteArray &ifNoneMatch, const QByteArray &etag)
{
    for (QByteArray candidate : ifNoneMatch.split(',')) {
        candidate = candidate.trimmed();
        if (candidate == "*")
            return true;
        if (candidate.startsWith("W/")) // If-None-Match compares weakly (RFC 9110 13.1.2)
            candidate = candidate.mid(2);
        if (candidate == etag)
            return true;
    }
    return false;
}

void WebUiRoute::serve(HttpExchange &ex, const QString &name) const
{
    const auto found = m_files.constFind(name);
    if (found == m_files.constEnd()) {
        ex.replyError(404, u"not_found", QStringLiteral("no such file: /ui/%1").arg(name));
        return;
    }
    // no-cache: the browser keeps the files but asks each time; the ETag makes that a 304,
    // and a new server version is picked up at once (the files carry no version in their name).
    const HeaderList headers{{"ETag", found->etag},
                             {"Cache-Control", "no-cache"},
                             {"Content-Security-Policy", ContentSecurityPolicy},
                             {"X-Content-Type-Options", "nosniff"},
                             {"Referrer-Policy", "no-referrer"}};
    if (matchesEtag(ex.header("if-none-match"), found->etag)) {
        ex.reply(304, {}, {}, headers);
        return;
    }
    ex.reply(200, found->body, found->contentType, headers);
}

void WebUiRoute::registerOn(HttpServer *server)
{
    using Method = HttpServer::Method;
    // Relative, so that a proxy serving Hermes under a path prefix keeps it.
    const auto redirect = [](HttpExchange &ex) {
        ex.reply(302, {}, {}, {{"Location", "ui/"}, {"Cache-Control", "no-cache"}});
    };
    server->route(Method::Get, QStringLiteral("/"), redirect);
    // The router ignores a trailing slash; the page does not: its files are named relative
    // to /ui/ (so it also works under a proxy's path prefix), which /ui would break.
    server->route(Method::Get, QStringLiteral("/ui"), [this, redirect](HttpExchange &ex) {
        if (ex.request().url().path().endsWith(u'/'))
            serve(ex, QStringLiteral("index.html"));
        else
            redirect(ex);
    });
    server->route(Method::Get, QStringLiteral("/ui/{}"),
                  [this](HttpExchange &ex) { serve(ex, ex.params().value(0)); });
}

} // namespace Hermes
