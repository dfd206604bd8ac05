#include "http/httpresponse.h"

#include "json.h"

namespace Hermes {

QByteArray HttpResponse::reasonPhrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

bool HttpResponse::isBodyless(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

QByteArray HttpResponse::head(int status, std::initializer_list<const HeaderList *> headers,
                              bool close)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
        + "\r\n";
    for (const HeaderList *list : headers) {
        for (const auto &h : *list)
            out += h.first + ": " + h.second + "\r\n";
    }
    if (close)
        out += "Connection: close\r\n";
    return out;
}

QByteArray HttpResponse::completeHead(int status,
                                      std::initializer_list<const HeaderList *> headers,
                                      bool close, const QByteArray &contentType, qint64 bodySize)
{
    QByteArray out = head(status, headers, close);
    if (!isBodyless(status)) {
        if (!contentType.isEmpty())
            out += "Content-Type: " + contentType + "\r\n";
        out += "Content-Length: " + QByteArray::number(bodySize) + "\r\n";
    }
    out += "\r\n";
    return out;
}

QByteArray HttpResponse::complete(int status, std::initializer_list<const HeaderList *> headers,
                                  bool close, const QByteArray &contentType,
                                  const QByteArray &body, bool headRequest)
{
    QByteArray out = completeHead(status, headers, close, contentType, body.size());
    if (!headRequest && !isBodyless(status))
        out += body;
    return out;
}

QByteArray HttpResponse::error(int status, QByteArrayView code, const QString &message,
                               const HeaderList &headers, bool close)
{
    return complete(status, {&headers}, close, "application/json",
                    Json::errorBody(QString::fromLatin1(code), message));
}

QByteArray HttpResponse::continueResponse()
{
    return head(100, {}, false) + "\r\n";
}

} // namespace Hermes
