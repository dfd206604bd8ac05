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
    Event event;
    QString error;
    if (!Event::fromEnvelope(channel, json, &event, &error)) {
        FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    FUZZ_CHECK(!event.type.isEmpty());
    Event again;
    FUZZ_CHECK(Event::fromEnvelope(channel, event.envelopeJson(), &again, &error));
    FUZZ_CHECK(again.type == event.type);
    FUZZ_CHECK(again.data == event.data);
    (void)event.dataJson();
    (void)event.downloadId();
    return 0;
}
