// The envelope / Redis message parser (Event::fromEnvelope in shared/event.cpp): what arrives
// on a Redis channel from anyone. Properties: no crash; an accepted event re-encodes to an
// envelope that parses back to the same type and data.

#include "event.h"
#include "fuzzinput.h"

#include <cstdio>
#include <cstdlib>

using namespace Hermes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 256 * 1024)
        return 0;
    const Channel channel = *Channel::fromIndex(data[0] % Channel::Count);
    const QByteArray json(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const Result<Event> parsed = Event::fromEnvelope(channel, json);
    if (!parsed) {
        FUZZ_CHECK(!parsed.error().message.isEmpty());
        return 0;
    }
    const Event &event = *parsed;
    FUZZ_CHECK(!event.type.isEmpty());
    const Result<Event> again = Event::fromEnvelope(channel, event.envelopeJson());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->type == event.type);
    FUZZ_CHECK(again->data == event.data);
    (void)event.dataJson();
    (void)event.downloadId();
    return 0;
}
