// Last-Event-ID parsing (EventId::parse): the header comes from any client.
// Properties: no crash; an id that parses prints as text that parses back to the same id.

#include "eventid.h"
#include "fuzzinput.h"

#include <cstdio>
#include <cstdlib>

using namespace Hermes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const auto id = EventId::parse(QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size)));
    if (id) {
        const auto again = EventId::parse(id->toByteArray());
        FUZZ_CHECK(again && *again == *id);
    }
    return 0;
}
