// The SSE parser (shared/sseparser) through its public feed API: any bytes, in any split.
// Properties: no crash or sanitizer finding; a split stream dispatches exactly the events and
// retry values the whole stream does.

#include "fuzzinput.h"
#include "sseparser.h"

#include <QList>
#include <QString>

#include <cstdio>
#include <cstdlib>

using namespace Hermes;

namespace {
struct Record
{
    QList<QString> events; // type, data, id joined
    QList<int> retries;
};

Record run(Fuzz::Pieces pieces, bool whole)
{
    Record r;
    SseParser parser;
    parser.setEventHandler([&](const SseParser::Event &e) {
        r.events.append(e.type + QChar(0) + e.data + QChar(0) + e.lastEventId);
    });
    parser.setRetryHandler([&](int ms) { r.retries.append(ms); });
    if (whole) {
        parser.feed(pieces.payload());
    } else {
        for (QByteArrayView piece = pieces.next(); !piece.isEmpty(); piece = pieces.next())
            parser.feed(piece);
    }
    parser.finish();
    return r;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    const Record whole = run(Fuzz::Pieces(data, size), true);
    const Record split = run(Fuzz::Pieces(data, size), false);
    FUZZ_CHECK(whole.events == split.events);
    FUZZ_CHECK(whole.retries == split.retries);
    return 0;
}
