// The embedded history's segment files (JournalSegment::scan) and the decision over them
// (JournalChain::plan): the bytes come from a disk that may be damaged or hostile.
// Properties: no crash; the usable events are whole, in id order, within the file; a file
// read without damage ends at its last byte; the whole records before damage read alone
// again without damage and give the same events; the plan keeps a recovered file only with
// records to keep, and never a file it found damaged and could not recover.

#include "broker/journalchain.h"
#include "broker/journalsegment.h"
#include "fuzzinput.h"

#include <cstdio>
#include <cstdlib>

using namespace Hermes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    const Channel channel = *Channel::fromIndex(data[0] % Channel::Count);
    const bool clean = data[0] & 0x80;
    const quint32 epoch = EventId::parseEpoch("abcdef");
    const QByteArrayView bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    constexpr int maxRecord = 1 << 20;
    const JournalSegment::Scan scan = JournalSegment::scan(bytes, channel, epoch, maxRecord);

    const QList<Event> &usable = scan.usable();
    for (qsizetype i = 1; i < usable.size(); ++i)
        FUZZ_CHECK(usable[i - 1].id < usable[i].id);
    FUZZ_CHECK(scan.usableEnd() >= 0 && scan.usableEnd() <= bytes.size());
    if (scan.damage == JournalSegment::Scan::Damage::None)
        FUZZ_CHECK(scan.header && scan.usableEnd() == bytes.size());
    if (scan.header)
        FUZZ_CHECK((scan.damage == JournalSegment::Scan::Damage::None) == (scan.intactBytes == bytes.size()));
    if (scan.damage == JournalSegment::Scan::Damage::Middle) {
        FUZZ_CHECK(!scan.recovered.isEmpty());
        FUZZ_CHECK(scan.recoveredFrom > scan.damageAt - 1 && scan.recoveredTo <= bytes.size());
    }
    if (scan.header) {
        const JournalSegment::Scan prefix = JournalSegment::scan(bytes.first(scan.intactBytes), channel, epoch, maxRecord);
        FUZZ_CHECK(prefix.damage == JournalSegment::Scan::Damage::None);
        FUZZ_CHECK(prefix.events.size() == scan.events.size());
        for (qsizetype i = 0; i < prefix.events.size(); ++i)
            FUZZ_CHECK(prefix.events[i].id == scan.events[i].id);
    }

    const QList<JournalChain::File> files{JournalChain::File{1, bytes.size(), scan}};
    const JournalChain::Plan plan = JournalChain::plan(files, std::nullopt, clean, EventId(1, 0, epoch));
    FUZZ_CHECK(plan.keepFrom >= 0 && plan.keepFrom <= 1);
    if (plan.rewriteFirst)
        FUZZ_CHECK(plan.keepFrom == 0 && scan.damage == JournalSegment::Scan::Damage::Middle);
    if (plan.keepFrom == 0 && !plan.rewriteFirst)
        FUZZ_CHECK(scan.header && (scan.damage == JournalSegment::Scan::Damage::None || (!clean && plan.cutLast)));
    FUZZ_CHECK(plan.damage.isEmpty() == (plan.keepFrom == 0 && !plan.rewriteFirst));
    return 0;
}
