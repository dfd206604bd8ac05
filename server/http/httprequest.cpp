#include "http/httprequest.h"

namespace Hermes {

HttpRequest::Method HttpRequest::methodFromName(QByteArrayView name)
{
    static constexpr struct { const char *name; Method method; } methods[] = {
        {"GET", Method::Get},         {"HEAD", Method::Head},     {"POST", Method::Post},
        {"PUT", Method::Put},         {"DELETE", Method::Delete}, {"OPTIONS", Method::Options},
        {"PATCH", Method::Patch},     {"CONNECT", Method::Connect}, {"TRACE", Method::Trace},
    };
    for (const auto &m : methods) {
        if (name == m.name)
            return m.method;
    }
    return Method::Unknown;
}

QByteArray HttpRequest::methodName(Method method)
{
    switch (method) {
    case Method::Get: return "GET";
    case Method::Head: return "HEAD";
    case Method::Post: return "POST";
    case Method::Put: return "PUT";
    case Method::Delete: return "DELETE";
    case Method::Options: return "OPTIONS";
    case Method::Patch: return "PATCH";
    case Method::Connect: return "CONNECT";
    case Method::Trace: return "TRACE";
    case Method::Unknown: break;
    }
    return "UNKNOWN";
}

QByteArray HttpRequest::value(QByteArrayView name) const
{
    for (const auto &h : m_headers) {
        if (name.compare(h.first, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

} // namespace Hermes
