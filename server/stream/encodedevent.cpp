#include "stream/encodedevent.h"

namespace Hermes {

QString StreamFilter::key() const
{
    QStringList sortedTypes(types.cbegin(), types.cend());
    sortedTypes.sort();
    return QString::number(channels) + u'|' + downloadId + u'|' + sortedTypes.join(u',');
}

std::shared_ptr<const EncodedEvent> EncodedEvent::encode(const Event &event)
{
    auto encoded = std::make_shared<EncodedEvent>();
    encoded->id = event.id;
    encoded->channel = event.channel;
    encoded->type = event.type;
    encoded->downloadId = event.downloadId();
    encoded->frames[int(EventStyle::Envelope)] = SseEncoder::encode(event, EventStyle::Envelope);
    encoded->frames[int(EventStyle::Named)] = SseEncoder::encode(event, EventStyle::Named);
    return encoded;
}

namespace {

// What glibc's malloc takes for a request of `bytes`: an 8-byte header, rounded up to 16, at
// least 32. (Another allocator differs by a few bytes an allocation, not by a factor.)
qint64 allocated(qint64 bytes)
{
    return qMax<qint64>(32, (bytes + 8 + 15) & ~qint64(15));
}

// Qt 6 keeps an array's header (QArrayData: reference count, flags, capacity) in front of its
// elements in the same allocation.
qint64 allocated(const QByteArray &bytes)
{
    return bytes.capacity() ? allocated(qint64(sizeof(QArrayData)) + bytes.capacity() + 1) : 0;
}

qint64 allocated(const QString &text)
{
    return text.capacity() ? allocated(qint64(sizeof(QArrayData)) + 2 * (text.capacity() + 1)) : 0;
}

} // namespace

qint64 EncodedEvent::heldBytes() const
{
    // std::make_shared puts the object and its control block (two counts, a vtable) in one
    // allocation; the holder keeps a shared_ptr (two pointers) to it.
    qint64 n = allocated(qint64(sizeof(EncodedEvent) + 2 * sizeof(void *) + 8))
        + qint64(sizeof(std::shared_ptr<const EncodedEvent>));
    for (const QByteArray &f : frames)
        n += allocated(f);
    return n + allocated(type) + allocated(downloadId);
}

} // namespace Hermes
