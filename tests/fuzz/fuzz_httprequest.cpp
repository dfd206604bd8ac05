// The HTTP front door on raw bytes: HttpRequestParser (the request guard) and HttpRouter with
// the server's route patterns. Properties: no crash; limits hold for everything accepted (line,
// header block, fields, body); and any split of the bytes yields exactly what the whole does —
// the same requests, the same error — so a client cannot change the framing by how it sends.

#include "fuzzinput.h"
#include "http/httprouter.h"
#include "http/requestparser.h"

#include <cstdio>
#include <cstdlib>

using namespace Hermes;
using Method = HttpRequest::Method;

namespace {

HttpLimits limits()
{
    HttpLimits l;
    // Small, so the fuzzer reaches every limit with short inputs.
    l.maxRequestLine = 256;
    l.maxHeaderBytes = 1024;
    l.maxHeaderFields = 12;
    l.maxBodyBytes = 512;
    return l;
}

const HttpRouter &router()
{
    static const HttpRouter r = [] {
        HttpRouter r;
        const auto none = [](HttpExchange &) {};
        for (const char *p : {"/api/v1/events/health", "/api/v1/events/stream", "/api/v1/events/queue",
                              "/api/v1/events/downloads/{}", "/metrics", "/api/v1/downloads",
                              "/api/v1/downloads/{}", "/api/v1/queue"})
            r.add(Method::Get, QString::fromLatin1(p), none);
        r.add(Method::Post, QStringLiteral("/api/v1/events/publish"), none, 300);
        r.add(Method::Post, QStringLiteral("/api/v1/events/token"), none);
        r.add(Method::Post, QStringLiteral("/api/v1/downloads/{}/{}"), none);
        r.add(Method::Delete, QStringLiteral("/api/v1/downloads/{}"), none);
        return r;
    }();
    return r;
}

struct Outcome
{
    QList<QByteArray> requests; // method, target, body, headers, flattened
    int error = 0;
    bool operator==(const Outcome &) const = default;
};

Outcome run(Fuzz::Pieces pieces, bool whole)
{
    const HttpLimits l = limits();
    Outcome out;
    HttpRequestParser parser(l);
    QByteArrayView piece = whole ? pieces.payload() : pieces.next();
    while (!piece.isEmpty()) {
        qsizetype used = 0;
        HttpRequestParser::Status s = parser.feed(piece, &used);
        FUZZ_CHECK(used >= 0 && used <= piece.size());
        piece = piece.sliced(used);
        if (s == HttpRequestParser::Status::HeadReady) {
            const HttpRequest &r = parser.request();
            FUZZ_CHECK(r.headers().size() <= l.maxHeaderFields);
            FUZZ_CHECK(r.target().size() <= l.maxRequestLine);
            s = parser.setBodyLimit(router().bodyLimit(r.method(), r.pathSegments(), l.maxBodyBytes));
        }
        FUZZ_CHECK(parser.bodyBytesRead() <= l.maxBodyBytes);
        if (s == HttpRequestParser::Status::Error) {
            FUZZ_CHECK(parser.error().status >= 400 && parser.error().status < 600);
            out.error = parser.error().status;
            return out;
        }
        if (s == HttpRequestParser::Status::Complete) {
            const HttpRequest r = parser.takeRequest();
            const HttpRouter::Match m = router().resolve(r.method(), r.pathSegments());
            FUZZ_CHECK(!m.route || m.allowed.isEmpty());
            QByteArray flat = HttpRequest::methodName(r.method()) + ' ' + r.target() + '\n' + r.body();
            for (const auto &h : r.headers())
                flat += '\n' + h.first + ':' + h.second;
            flat += m.route ? "\nrouted" : "\nunrouted";
            out.requests.append(flat);
            parser.reset();
        }
        if (piece.isEmpty() && !whole)
            piece = pieces.next();
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    const Outcome whole = run(Fuzz::Pieces(data, size), true);
    const Outcome split = run(Fuzz::Pieces(data, size), false);
    FUZZ_CHECK(whole == split);
    return 0;
}
