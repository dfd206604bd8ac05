#include "http/downloadroutes.h"

#include "http/apiauth.h"
#include "downloads/downloadengine.h"
#include "http/httpserver.h"

#include <QJsonArray>
#include <QUrlQuery>

namespace Hermes {

using Method = HttpServer::Method;

DownloadRoutes::DownloadRoutes(DownloadEngine *engine, const ApiKeyStore &keys, Metrics *metrics)
    : m_engine(engine), m_keys(keys), m_metrics(metrics)
{
}

void DownloadRoutes::registerOn(HttpServer *server)
{
    auto authed = [this](void (DownloadRoutes::*handler)(HttpExchange &)) {
        return [this, handler](HttpExchange &ex) {
            if (requireApiKey(ex, m_keys, m_metrics))
                (this->*handler)(ex);
        };
    };
    const QString base = QStringLiteral("/api/v1/downloads");
    server->route(Method::Post, base, authed(&DownloadRoutes::create));
    server->route(Method::Get, base, authed(&DownloadRoutes::list));
    server->route(Method::Get, base + QStringLiteral("/{}"), authed(&DownloadRoutes::get));
    server->route(Method::Get, QStringLiteral("/api/v1/queue"), authed(&DownloadRoutes::queue));
    server->route(Method::Post, base + QStringLiteral("/{}/priority"), authed(&DownloadRoutes::setPriority));
    const struct
    {
        const char *name;
        DownloadEngine::Action action;
    } actions[] = {{"pause", DownloadEngine::Action::Pause},
                   {"resume", DownloadEngine::Action::Resume},
                   {"cancel", DownloadEngine::Action::Cancel},
                   {"retry", DownloadEngine::Action::Retry}};
    for (const auto &a : actions) {
        const auto action = a.action;
        server->route(Method::Post, base + QStringLiteral("/{}/") + QString::fromLatin1(a.name),
                      [this, action](HttpExchange &ex) {
            if (requireApiKey(ex, m_keys, m_metrics))
                m_engine->act(ex.params().value(0), action, rowReply(ex, 200));
        });
    }
    server->route(Method::Delete, base + QStringLiteral("/{}"), [this](HttpExchange &ex) {
        if (!requireApiKey(ex, m_keys, m_metrics))
            return;
        const QString flag = QUrlQuery(ex.request().url()).queryItemValue(QStringLiteral("delete_file"));
        if (!flag.isEmpty() && flag != u"true" && flag != u"false") {
            ex.replyError(400, u"invalid_parameter", u"delete_file must be true or false");
            return;
        }
        m_engine->remove(ex.params().value(0), flag == u"true", [ex](DownloadEngine::Result error) mutable {
            if (error)
                replyWith(ex, *error);
            else
                ex.reply(204, {}, {});
        });
    });
}

void DownloadRoutes::replyWith(HttpExchange &ex, const DownloadEngine::Error &error)
{
    // The store out of reach is temporary: the client may try again (on any node).
    ex.replyError(error.status, error.code, error.message,
                  error.status == 503 ? HeaderList{{"Retry-After", "1"}} : HeaderList{});
}

DownloadEngine::RowCallback DownloadRoutes::rowReply(HttpExchange &ex, int status, const HeaderList &headers)
{
    // The exchange answers later, when the store has (a copy may answer, see HttpExchange).
    return [this, ex, status, headers](DownloadEngine::Result error, const Download &d) mutable {
        if (error)
            return replyWith(ex, *error);
        HeaderList h = headers;
        if (status == 201)
            h.append({"Location", "/api/v1/downloads/" + d.id.toUtf8()});
        ex.replyJson(status, m_engine->toJson(d), h);
    };
}

void DownloadRoutes::create(HttpExchange &ex)
{
    const auto body = ex.jsonBody();
    if (!body)
        return;
    const QJsonValue url = body->value(QStringLiteral("url"));
    const QJsonValue filename = body->value(QStringLiteral("filename"));
    const QJsonValue priority = body->value(QStringLiteral("priority"));
    const QJsonValue sha256 = body->value(QStringLiteral("sha256"));
    if (!url.isString()) {
        ex.replyError(400, u"invalid_url", u"url is required and must be a string");
        return;
    }
    if (!filename.isUndefined() && !filename.isNull() && !filename.isString()) {
        ex.replyError(400, u"invalid_filename", u"filename must be a string");
        return;
    }
    const double p = priority.toDouble(0);
    if ((!priority.isUndefined() && !priority.isNull() && !priority.isDouble()) || p != std::floor(p)
        || p < -1000 || p > 1000) {
        ex.replyError(400, u"invalid_priority", u"priority must be a whole number from -1000 to 1000");
        return;
    }
    if (!sha256.isUndefined() && !sha256.isNull() && !sha256.isString()) {
        ex.replyError(400, u"invalid_sha256", u"sha256 must be a string of 64 hexadecimal digits");
        return;
    }
    const QString name = filename.isString() ? filename.toString() : QString();
    m_engine->add(url.toString(), name, int(p), sha256.toString(), rowReply(ex, 201));
}

void DownloadRoutes::list(HttpExchange &ex)
{
    const QUrlQuery query(ex.request().url());
    std::optional<DownloadStatus> status;
    if (query.hasQueryItem(QStringLiteral("status"))) {
        status = fromWire<DownloadStatus>(query.queryItemValue(QStringLiteral("status")));
        if (!status) {
            ex.replyError(400, u"invalid_status", u"status must be one of pending, downloading, "
                                                  u"processing, paused, completed, failed, cancelled");
            return;
        }
    }
    bool ok = true;
    const int limit = query.hasQueryItem(QStringLiteral("limit"))
        ? query.queryItemValue(QStringLiteral("limit")).toInt(&ok) : 100;
    bool ok2 = true;
    const int offset = query.hasQueryItem(QStringLiteral("offset"))
        ? query.queryItemValue(QStringLiteral("offset")).toInt(&ok2) : 0;
    if (!ok || !ok2 || limit < 1 || limit > 1000 || offset < 0) {
        ex.replyError(400, u"invalid_paging", u"limit must be 1-1000 and offset 0 or more");
        return;
    }
    m_engine->list(status, limit, offset, [this, ex, limit, offset](DownloadEngine::Result error,
                                                                    const QList<Download> &page, int total) mutable {
        if (error)
            return replyWith(ex, *error);
        QJsonArray items;
        for (const Download &d : page)
            items.append(m_engine->toJson(d));
        ex.replyJson(200, {{QStringLiteral("items"), items},
                           {QStringLiteral("total"), total},
                           {QStringLiteral("limit"), limit},
                           {QStringLiteral("offset"), offset}});
    });
}

void DownloadRoutes::get(HttpExchange &ex)
{
    m_engine->get(ex.params().value(0), rowReply(ex, 200));
}

void DownloadRoutes::queue(HttpExchange &ex)
{
    m_engine->queue([this, ex](DownloadEngine::Result error, const QList<Download> &unfinished,
                               const QJsonObject &summary) mutable {
        if (error)
            return replyWith(ex, *error);
        QJsonArray items;
        for (const Download &d : unfinished)
            items.append(m_engine->toJson(d));
        ex.replyJson(200, {{QStringLiteral("items"), items}, {QStringLiteral("summary"), summary}});
    });
}

void DownloadRoutes::setPriority(HttpExchange &ex)
{
    const auto body = ex.jsonBody();
    if (!body)
        return;
    const QJsonValue priority = body->value(QStringLiteral("priority"));
    const double p = priority.toDouble(0.5);
    if (!priority.isDouble() || p != std::floor(p) || p < -1000 || p > 1000) {
        ex.replyError(400, u"invalid_priority", u"priority must be a whole number from -1000 to 1000");
        return;
    }
    m_engine->setPriority(ex.params().value(0), int(p), rowReply(ex, 200));
}

} // namespace Hermes
