#include "stream/eventhub.h"

#include "broker/broker.h"
#include "logging.h"
#include "metrics.h"

#include <QTcpSocket>
#include <QThread>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>

namespace Hermes {

EventHub::EventHub(Broker *broker, int historySize, qint64 historyBytes,
                   const StreamWorker::Options &options, int ioThreads, Metrics *metrics,
                   QObject *parent)
    : QObject(parent), m_broker(broker), m_metrics(metrics), m_history(historySize, historyBytes),
      m_planner(&m_history, [broker](EventId id) { return broker->mayStillArrive(id); })
{
    if (ioThreads <= 0)
        ioThreads = qMax(1, QThread::idealThreadCount());
    // Each thread has its own ring, and the kernel may refuse some (an old kernel counts
    // rings against RLIMIT_MEMLOCK): the log says what each got.
    int onRing = 0;
    QString why;
    for (int i = 0; i < ioThreads; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("hermes-io-%1").arg(i));
        std::unique_ptr<StreamWorker, DeleteInItsThread> worker(new StreamWorker(
            options, &m_history, &m_planner, metrics,
            [this](const QByteArray &owner) { streamClosed(owner); }));
        worker->moveToThread(thread.get());
        thread->start();
        StreamWorker *w = worker.get();
        QMetaObject::invokeMethod(w, [w, &onRing, &why] {
            w->start();
            if (w->backend() == BatchSender::Backend::IoUring)
                ++onRing;
            else if (why.isEmpty())
                why = w->fallbackReason();
        }, Qt::BlockingQueuedConnection);
        m_threads.push_back(std::move(thread));
        m_workers.push_back(std::move(worker));
    }
    if (!why.isEmpty()) {
        if (options.ioBackend == QLatin1String("io_uring"))
            qCWarning(lcHub).noquote() << why << "- sending through epoll";
        else
            qCInfo(lcHub).noquote() << why << "- sending through epoll";
    }
    if (onRing == 0 || onRing == ioThreads)
        qCInfo(lcHub) << "streams on" << ioThreads << "I/O thread(s), sends through"
                      << (onRing ? "io_uring" : "epoll");
    else
        qCWarning(lcHub) << "streams on" << ioThreads << "I/O thread(s)," << onRing
                         << "sending through io_uring, the others through epoll";
    connect(broker, &Broker::eventReceived, this, &EventHub::onEvent);
    connect(broker, &Broker::historyLoaded, this, &EventHub::onHistoryLoaded);
    connect(broker, &Broker::eventsLost, this, &EventHub::onEventsLost);
    connect(broker, &Broker::eventDiscarded, this, [metrics] { metrics->eventDiscarded(); });
}

void EventHub::DeleteInItsThread::operator()(StreamWorker *worker) const
{
    QMetaObject::invokeMethod(worker, [worker] { delete worker; }, Qt::BlockingQueuedConnection);
}

EventHub::~EventHub()
{
    for (size_t i = 0; i < m_workers.size(); ++i) {
        m_workers[i].reset(); // in its own thread
        m_threads[i]->quit();
        m_threads[i]->wait();
        m_threads[i].reset();
    }
}

qsizetype EventHub::activeConnections() const
{
    qsizetype n = 0;
    for (const auto &worker : m_workers)
        n += worker->connectionCount();
    return n;
}

void EventHub::openStream(QTcpSocket *socket, const QByteArray &head, const StreamParams &params)
{
    HERMES_ASSERT_THREAD(this);
    Q_ASSERT(socket->bytesToWrite() == 0);
    // The stream keeps a duplicate of the descriptor; Qt's socket, its buffers and notifiers
    // are released (abort() closes only Qt's descriptor, the connection stays open). Queued,
    // because the HTTP connection is still inside its read handler for this socket.
    const int fd = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    QMetaObject::invokeMethod(socket, &QTcpSocket::abort, Qt::QueuedConnection);
    if (fd < 0) {
        qCWarning(lcHub) << "cannot take a stream over:" << std::strerror(errno);
        return;
    }
    StreamWorker *worker = std::min_element(
        m_workers.begin(), m_workers.end(), [](const auto &a, const auto &b) {
            return a->connectionCount() < b->connectionCount();
        })->get();
    // Counted now, so quotas and the connection limit see it before the worker takes it.
    worker->reserve();
    if (!params.owner.isEmpty()) {
        const std::lock_guard lock(m_ownersLock);
        ++m_owners[params.owner];
    }
    QMetaObject::invokeMethod(
        worker, [worker, fd, head, params] { worker->addStream(fd, head, params); },
        Qt::QueuedConnection);
}

int EventHub::streamsOwnedBy(const QByteArray &owner) const
{
    const std::lock_guard lock(m_ownersLock);
    return m_owners.value(owner);
}

void EventHub::streamClosed(const QByteArray &owner)
{
    if (owner.isEmpty())
        return;
    const std::lock_guard lock(m_ownersLock);
    auto it = m_owners.find(owner);
    if (it != m_owners.end() && --*it <= 0)
        m_owners.erase(it);
}

void EventHub::closeStreamsOf(const QSet<QByteArray> &owners)
{
    HERMES_ASSERT_THREAD(this);
    if (owners.isEmpty())
        return;
    // Queued like openStream()'s addStream(): a stream handed over before this call is
    // in its worker by the time this runs there.
    for (const auto &worker : m_workers) {
        StreamWorker *w = worker.get();
        QMetaObject::invokeMethod(w, [w, owners] { w->closeOwnedBy(owners); }, Qt::QueuedConnection);
    }
}

void EventHub::closeAll()
{
    HERMES_ASSERT_THREAD(this);
    for (const auto &worker : m_workers)
        QMetaObject::invokeMethod(worker.get(), &StreamWorker::closeAll,
                                  Qt::BlockingQueuedConnection);
}

void EventHub::onHistoryLoaded(quint32 epoch, const QList<Event> &events,
                               const ChannelFloors &floors)
{
    HERMES_ASSERT_THREAD(this);
    // A second history replaces the first (the Redis database was flushed: streams are told
    // to resync; or trimmed past what was delivered here: streams that lost events resync).
    const bool reset = m_ready;
    if (reset)
        qCWarning(lcHub) << "the event history was replaced; streams resync";
    // Newest first, and only what the history's bounds can hold: a store that keeps more
    // than fits in memory (a journal or a Redis stream of large events) is not encoded whole
    // just to be evicted. What is left out raises its channel's floor, as eviction would.
    std::vector<EncodedEventPtr> encoded; // newest first
    ChannelFloors kept = floors;
    qint64 bytes[Channel::Count] = {};
    int count[Channel::Count] = {};
    for (auto it = events.crbegin(); it != events.crend(); ++it) {
        const int i = it->channel.index();
        if (count[i] >= m_history.capacityPerChannel() || bytes[i] >= m_history.bytesPerChannel()) {
            kept[size_t(i)] = std::max(kept[size_t(i)], it->id);
            continue;
        }
        encoded.push_back(EncodedEvent::encode(*it));
        bytes[i] += encoded.back()->heldBytes();
        ++count[i];
    }
    quint64 generation;
    EventId newest;
    {
        const std::unique_lock lock(m_history.lock());
        m_history.clear();
        for (auto e = encoded.crbegin(); e != encoded.crend(); ++e)
            m_history.append(*e); // the one over the byte bound, if any, is evicted here
        for (Channel channel : Channel::all())
            m_history.setFloor(channel, kept[size_t(channel.index())]);
        generation = m_history.generation();
        newest = m_history.newest().isNull() ? EventId(0, 0, epoch) : m_history.newest();
    }
    m_epoch = epoch;
    m_ready = true;
    // These were never queued for live delivery: replay hands them out.
    for (const auto &worker : m_workers)
        worker->setHistory(epoch, newest, reset, generation);
}

void EventHub::onEventsLost(Channel channel, EventId after, quint64 count)
{
    HERMES_ASSERT_THREAD(this);
    m_metrics->eventsLost(channel, Metrics::Loss::AdoptFailed, count);
    if (!m_ready || after.epoch() != m_epoch)
        return; // a history that is gone, or not here yet: a new one resyncs everybody anyway
    // The lost events have no id: they would have come after `after`, before whatever comes
    // next. So every position up to the newest misses them, the newest included.
    const EventId through = std::max(after, m_history.newest());
    qCWarning(lcHub).noquote() << (count ? QString::number(count) : QStringLiteral("some"))
                               << "event(s) on" << channel.name() << "may have been lost after"
                               << after.toByteArray() << "- its streams resync";
    {
        const std::unique_lock lock(m_history.lock());
        m_history.markLost(channel, through);
    }
    for (const auto &worker : m_workers)
        worker->eventsLost(channel.bit());
}

void EventHub::onEvent(const Event &event)
{
    HERMES_ASSERT_THREAD(this);
    if (!m_ready || event.id.epoch() != m_epoch) {
        // Brokers announce a history first; an event outside it cannot be placed in order.
        qCWarning(lcHub).noquote() << "dropping an event of an unknown epoch:"
                                   << event.id.toByteArray();
        m_metrics->eventDiscarded();
        return;
    }
    const EncodedEventPtr encoded = EncodedEvent::encode(event);
    m_metrics->eventPublished(encoded->channel);
    m_metrics->observeDeliveryLag(event.id.ms());
    {
        const std::unique_lock lock(m_history.lock());
        m_history.append(encoded);
    }
    for (const auto &worker : m_workers)
        worker->deliver(encoded);
}

} // namespace Hermes
