// EventHub against a fake Broker (the test emits what a broker emits), with streams over real
// local TCP sockets: the history comes before live events, an epoch change makes open streams
// resync, an event of an unknown epoch is dropped and counted, streams are counted against
// their owners while they are open, closeAll() ends every stream with a retry hint, and
// workers on several threads all get every event; events lost on a channel make its streams,
// and resumes across the loss, resync.

#include "broker/broker.h"
#include "metrics.h"
#include "protocol/payloads.h"
#include "stream/eventhub.h"

#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <atomic>
#include <memory>

using namespace Hermes;

namespace {

constexpr quint32 EpochA = 60466176; // "100000"
constexpr quint32 EpochB = 60466177;

/// A broker whose signals the test emits itself.
class FakeBroker final : public Broker
{
public:
    Result<void> start() override { return Result<void>::success(); }
    QString name() const override { return QStringLiteral("fake"); }
    bool isUp() const override { return true; }
    void publish(const Event &, PublishCallback done) override
    {
        done(Error::unavailable("fake", QStringLiteral("the test publishes through signals")));
    }
    HERMES_ANY_THREAD bool mayStillArrive(EventId) const override { return false; }

    void loadHistory(quint32 epoch, const QList<Event> &events)
    {
        emit historyLoaded(epoch, events, ChannelFloors{});
    }
};

Event makeEvent(quint32 epoch, quint64 ms, Channel channel = Channel::System)
{
    Event e;
    e.id = EventId(ms, 0, epoch);
    e.channel = channel;
    e.type = QString(wireName(EventType::SystemNotification));
    e.timestamp = Event::currentTimestamp();
    e.data = {{QStringLiteral("n"), qint64(ms)}};
    return e;
}

/// One SSE frame as a client received it.
struct Frame
{
    QByteArray id;
    QByteArray retry;
    ReceivedEvent event; ///< type empty: no data (a comment, a retry hint)
};

/// The client end of a stream.
struct Client
{
    std::unique_ptr<QTcpSocket> socket;
    QByteArray received;
    bool closed = false;

    void read()
    {
        if (socket->isOpen())
            received += socket->readAll();
    }
    /// The frames after the response head (close-delimited streams only).
    QList<Frame> frames() const
    {
        QList<Frame> out;
        const qsizetype body = received.indexOf("\r\n\r\n");
        if (body < 0)
            return out;
        qsizetype start = body + 4;
        for (qsizetype end; (end = received.indexOf("\n\n", start)) >= 0; start = end + 2) {
            Frame frame;
            QByteArray sseType = "message";
            QByteArray data;
            for (const QByteArray &line : received.mid(start, end - start).split('\n')) {
                if (line.startsWith("id: "))
                    frame.id = line.mid(4);
                else if (line.startsWith("event: "))
                    sseType = line.mid(7);
                else if (line.startsWith("data: "))
                    data += line.mid(6);
                else if (line.startsWith("retry: "))
                    frame.retry = line.mid(7);
            }
            if (!data.isEmpty())
                frame.event = ReceivedEvent::decode(QString::fromLatin1(sseType),
                                                    QString::fromUtf8(data));
            out.append(frame);
        }
        return out;
    }
    /// The events received (comments, retry hints and heartbeats left out).
    QList<Frame> events() const
    {
        QList<Frame> out;
        for (const Frame &f : frames()) {
            if (!f.event.type.isEmpty() && !isType(f.event.type, EventType::Heartbeat))
                out.append(f);
        }
        return out;
    }
    /// The ids of the events after `connected`.
    QList<QByteArray> idsAfterConnected() const
    {
        QList<QByteArray> ids;
        const QList<Frame> all = events();
        for (qsizetype i = 1; i < all.size(); ++i)
            ids.append(all[i].id);
        return ids;
    }
};

QByteArray bytes(QLatin1StringView text)
{
    return QByteArray(text.data(), text.size());
}

QList<QByteArray> idsOf(const QList<Event> &events)
{
    QList<QByteArray> ids;
    for (const Event &e : events)
        ids.append(e.id.toByteArray());
    return ids;
}

} // namespace

class tst_EventHub : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void theHistoryComesBeforeLiveEvents();
    void anEpochChangeMakesOpenStreamsResync();
    void anEventOfAnUnknownEpochIsDroppedAndCounted();
    void streamsCountAgainstTheirOwnerWhileOpen();
    void closeAllEndsEveryStreamWithARetryHint();
    void workersOnSeveralThreadsAllGetEveryEvent();
    void lostEventsMakeTheirChannelsStreamsResync();

private:
    void makeHub(int ioThreads);
    /// A stream opened through the hub: the server end of a local connection goes to
    /// openStream(), the client end is returned (null when the connection failed).
    Client *open(StreamParams params = {});
    quint64 discarded() const;

    QTcpServer m_listener;
    FakeBroker m_broker;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<EventHub> m_hub;
    std::vector<std::unique_ptr<Client>> m_clients;
};

void tst_EventHub::init()
{
    QVERIFY(m_listener.listen(QHostAddress::LocalHost, 0));
    m_metrics = std::make_unique<Metrics>();
}

void tst_EventHub::cleanup()
{
    m_hub.reset(); // closes the server ends
    m_clients.clear();
    m_listener.close();
}

void tst_EventHub::makeHub(int ioThreads)
{
    StreamWorker::Options options;
    options.connectionTimeoutSec = 0;
    m_hub = std::make_unique<EventHub>(&m_broker, 100, EventHistory::Unbounded, options, ioThreads,
                                       m_metrics.get());
}

Client *tst_EventHub::open(StreamParams params)
{
    auto client = std::make_unique<Client>();
    client->socket = std::make_unique<QTcpSocket>();
    Client *c = client.get();
    connect(c->socket.get(), &QTcpSocket::readyRead, this, [c] { c->read(); });
    connect(c->socket.get(), &QTcpSocket::disconnected, this, [c] {
        c->read();
        c->closed = true;
    });
    c->socket->connectToHost(QHostAddress::LocalHost, m_listener.serverPort());
    if (!QTest::qWaitFor([this] { return m_listener.hasPendingConnections(); }, 5000))
        return nullptr;
    QTcpSocket *serverEnd = m_listener.nextPendingConnection();
    m_hub->openStream(serverEnd, "HTTP/1.1 200 OK\r\n", params);
    m_clients.push_back(std::move(client));
    return c;
}

quint64 tst_EventHub::discarded() const
{
    static const QRegularExpression sample(QStringLiteral("^hermes_events_discarded_total (\\d+)$"),
                                           QRegularExpression::MultilineOption);
    return sample.match(QString::fromUtf8(m_metrics->render({}))).captured(1).toULongLong();
}

void tst_EventHub::theHistoryComesBeforeLiveEvents()
{
    makeHub(1);
    // Streams opened before the history: they wait for it (nothing but the head meanwhile).
    StreamParams fresh;
    fresh.chunked = false;
    Client *early = open(fresh);
    StreamParams resuming = fresh;
    const QList<Event> history{makeEvent(EpochA, 10), makeEvent(EpochA, 11, Channel::Queue),
                               makeEvent(EpochA, 12)};
    resuming.lastEventId = history[0].id.toByteArray();
    Client *resumedEarly = open(resuming);
    QVERIFY(early && resumedEarly);
    QTest::qWait(200);
    QVERIFY(early->events().isEmpty());
    QVERIFY(resumedEarly->events().isEmpty());

    m_broker.loadHistory(EpochA, history);
    const QList<Event> live{makeEvent(EpochA, 20), makeEvent(EpochA, 21, Channel::Downloads)};
    for (const Event &e : live)
        emit m_broker.eventReceived(e);
    Client *resumedLate = open(resuming);
    QVERIFY(resumedLate);

    // A fresh stream starts at the newest event of the history, and gets only live events;
    // a resumed one gets the history after its id, then the live events, once each, in order.
    QTRY_COMPARE_WITH_TIMEOUT(early->idsAfterConnected(), idsOf(live), 10000);
    QCOMPARE(early->events().first().event.type, QString(wireName(EventType::Connected)));
    QCOMPARE(early->events().first().id, history.last().id.toByteArray());
    const QList<QByteArray> missed = idsOf(history.mid(1)) + idsOf(live);
    QTRY_COMPARE_WITH_TIMEOUT(resumedEarly->idsAfterConnected(), missed, 10000);
    QCOMPARE(resumedEarly->events().first().id, history.first().id.toByteArray());
    QTRY_COMPARE_WITH_TIMEOUT(resumedLate->idsAfterConnected(), missed, 10000);
    QCOMPARE(m_hub->history().size(), history.size() + live.size());
}

void tst_EventHub::anEpochChangeMakesOpenStreamsResync()
{
    makeHub(1);
    m_broker.loadHistory(EpochA, {makeEvent(EpochA, 10)});
    StreamParams params;
    params.chunked = false;
    Client *client = open(params);
    QVERIFY(client);
    QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 1, 10000); // connected
    emit m_broker.eventReceived(makeEvent(EpochA, 11));
    QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 2, 10000);

    // Another epoch's history replaces this one: the stream is told, and goes on from the
    // start of the new epoch (every event of it is new to the stream).
    m_broker.loadHistory(EpochB, {});
    QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 3, 10000);
    const Frame resync = client->events()[2];
    QCOMPARE(resync.event.type, QString(wireName(EventType::ResyncRequired)));
    QCOMPARE(resync.event.data.value(QStringLiteral("reason")).toString(),
             QString(wireName(ResyncReason::HistoryReset)));
    QCOMPARE(resync.id, EventId(0, 0, EpochB).toByteArray());
    QCOMPARE(m_hub->epoch(), EpochB);

    emit m_broker.eventReceived(makeEvent(EpochA, 12)); // the old epoch: dropped
    const Event next = makeEvent(EpochB, 5);
    emit m_broker.eventReceived(next);
    QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 4, 10000);
    QCOMPARE(client->events()[3].id, next.id.toByteArray());
    QTest::qWait(100);
    QCOMPARE(client->events().size(), 4);
}

void tst_EventHub::anEventOfAnUnknownEpochIsDroppedAndCounted()
{
    makeHub(1);
    // Before any history an event cannot be placed in the order.
    emit m_broker.eventReceived(makeEvent(EpochA, 1));
    QCOMPARE(discarded(), quint64(1));
    QVERIFY(!m_hub->historyReady());

    m_broker.loadHistory(EpochA, {});
    StreamParams params;
    params.chunked = false;
    Client *client = open(params);
    QVERIFY(client);
    QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 1, 10000); // connected
    emit m_broker.eventReceived(makeEvent(EpochB, 2));
    QCOMPARE(discarded(), quint64(2));
    const Event known = makeEvent(EpochA, 3);
    emit m_broker.eventReceived(known);
    QTRY_COMPARE_WITH_TIMEOUT(client->events().size(), 2, 10000);
    QCOMPARE(client->idsAfterConnected(), QList<QByteArray>{known.id.toByteArray()});
    QCOMPARE(m_hub->history().size(), 1);
    QCOMPARE(discarded(), quint64(2));
}

void tst_EventHub::streamsCountAgainstTheirOwnerWhileOpen()
{
    makeHub(2);
    m_broker.loadHistory(EpochA, {});
    StreamParams k1;
    k1.owner = "key-1";
    StreamParams k2;
    k2.owner = "key-2";
    Client *first = open(k1);
    Client *second = open(k1);
    Client *third = open(k2);
    Client *anonymous = open();
    QVERIFY(first && second && third && anonymous);
    // Counted as the stream is handed over, before its worker took it: a quota sees it at once.
    QCOMPARE(m_hub->streamsOwnedBy("key-1"), 2);
    QCOMPARE(m_hub->streamsOwnedBy("key-2"), 1);
    QCOMPARE(m_hub->streamsOwnedBy(""), 0);
    QCOMPARE(m_hub->activeConnections(), 4);

    // A client that leaves gives its place back once its worker noticed.
    QTRY_VERIFY_WITH_TIMEOUT(!first->received.isEmpty(), 10000);
    first->socket->abort();
    QTRY_COMPARE_WITH_TIMEOUT(m_hub->streamsOwnedBy("key-1"), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_hub->activeConnections(), 3, 10000);
    QCOMPARE(m_hub->streamsOwnedBy("key-2"), 1);

    m_hub->closeAll();
    QCOMPARE(m_hub->streamsOwnedBy("key-1"), 0);
    QCOMPARE(m_hub->streamsOwnedBy("key-2"), 0);
    QCOMPARE(m_hub->activeConnections(), 0);
}

void tst_EventHub::closeAllEndsEveryStreamWithARetryHint()
{
    makeHub(3);
    m_broker.loadHistory(EpochA, {});
    std::vector<std::pair<Client *, bool>> clients; // and whether it is chunked
    for (int i = 0; i < 6; ++i) {
        StreamParams params;
        params.chunked = i % 2 == 0;
        Client *c = open(params);
        QVERIFY(c);
        clients.emplace_back(c, params.chunked);
    }
    for (const auto &[c, chunked] : clients)
        QTRY_VERIFY_WITH_TIMEOUT(c->received.contains(bytes(wireName(EventType::Connected))), 10000);

    m_hub->closeAll(); // waits for every worker
    QCOMPARE(m_hub->activeConnections(), 0);
    const QByteArray retry = "retry: " + QByteArray::number(StreamWorker::Options().retryMs) + "\n\n";
    for (const auto &[c, chunked] : clients) {
        QTRY_VERIFY_WITH_TIMEOUT(c->closed, 10000);
        // The retry hint is the last thing; a chunked stream then gets its last chunk.
        if (chunked) {
            QVERIFY2(c->received.endsWith(retry + "\r\n0\r\n\r\n"), c->received.right(60).constData());
        } else {
            QVERIFY2(c->received.endsWith(retry), c->received.right(60).constData());
            QCOMPARE(c->frames().last().retry, QByteArray::number(StreamWorker::Options().retryMs));
        }
    }
}

void tst_EventHub::workersOnSeveralThreadsAllGetEveryEvent()
{
    makeHub(3);
    QCOMPARE(m_hub->ioThreads(), 3);
    m_broker.loadHistory(EpochA, {});
    std::vector<Client *> clients;
    for (int i = 0; i < 9; ++i) {
        StreamParams params;
        params.chunked = false;
        params.style = i % 2 ? EventStyle::Named : EventStyle::Envelope;
        Client *c = open(params);
        QVERIFY(c);
        clients.push_back(c);
    }
    QCOMPARE(m_hub->activeConnections(), 9);
    for (Client *c : clients)
        QTRY_COMPARE_WITH_TIMEOUT(c->events().size(), 1, 10000); // connected: live now

    // Bursts on every channel, the event loop running in between.
    QList<Event> published;
    quint64 ms = 100;
    for (int burst = 0; burst < 10; ++burst) {
        for (int i = 0; i < 20; ++i) {
            const Event e = makeEvent(EpochA, ++ms, *Channel::fromIndex(i % Channel::Count));
            published.append(e);
            emit m_broker.eventReceived(e);
        }
        QCoreApplication::processEvents();
    }
    const QList<QByteArray> expected = idsOf(published);
    for (Client *c : clients)
        QTRY_COMPARE_WITH_TIMEOUT(c->idsAfterConnected(), expected, 20000);
}

void tst_EventHub::lostEventsMakeTheirChannelsStreamsResync()
{
    makeHub(2);
    m_broker.loadHistory(EpochA, {makeEvent(EpochA, 10), makeEvent(EpochA, 11, Channel::Downloads)});
    StreamParams all;
    all.chunked = false;
    StreamParams downloads = all;
    downloads.filter.channels = Channel(Channel::Downloads).bit();
    StreamParams system = all;
    system.filter.channels = Channel(Channel::System).bit();
    Client *onAll = open(all);
    Client *onDownloads = open(downloads);
    Client *onSystem = open(system);
    QVERIFY(onAll && onDownloads && onSystem);
    for (Client *c : {onAll, onDownloads, onSystem})
        QTRY_COMPARE_WITH_TIMEOUT(c->events().size(), 1, 10000); // connected
    const Event beforeLoss = makeEvent(EpochA, 12);
    emit m_broker.eventReceived(beforeLoss);
    QTRY_COMPARE_WITH_TIMEOUT(onAll->events().size(), 2, 10000);

    // Outside messages on downloads were given up after 11 (this node delivered 12 since).
    emit m_broker.eventsLost(Channel::Downloads, EventId(11, 0, EpochA), 3);
    const auto resyncOf = [](const Frame &f) {
        return isType(f.event.type, EventType::ResyncRequired)
            ? f.event.data.value(QStringLiteral("reason")).toString() : QString();
    };
    const QString eventsLost(wireName(ResyncReason::EventsLost));
    QTRY_COMPARE_WITH_TIMEOUT(onAll->events().size(), 3, 10000);
    QCOMPARE(resyncOf(onAll->events()[2]), eventsLost);
    QCOMPARE(onAll->events()[2].id, beforeLoss.id.toByteArray()); // it goes on from the newest
    QTRY_COMPARE_WITH_TIMEOUT(onDownloads->events().size(), 2, 10000);
    QCOMPARE(resyncOf(onDownloads->events()[1]), eventsLost);
    QTest::qWait(200);
    QCOMPARE(onSystem->events().size(), 2); // connected, 12: another channel is not concerned

    // Resumes from before the loss, up to the newest itself, resync; on another channel not.
    for (quint64 from : {10, 11, 12}) {
        StreamParams resumed = all;
        resumed.lastEventId = EventId(from, 0, EpochA).toByteArray();
        Client *c = open(resumed);
        QVERIFY(c);
        QTRY_VERIFY_WITH_TIMEOUT(c->events().size() >= 2, 10000);
        QCOMPARE(resyncOf(c->events()[1]), eventsLost);
    }
    StreamParams resumedSystem = system;
    resumedSystem.lastEventId = EventId(10, 0, EpochA).toByteArray();
    Client *systemResumed = open(resumedSystem);
    QVERIFY(systemResumed);
    QTRY_COMPARE_WITH_TIMEOUT(systemResumed->idsAfterConnected(), QList<QByteArray>{beforeLoss.id.toByteArray()}, 10000);

    // Events after the loss flow on as usual, also to a stream that resumes after it.
    const Event after = makeEvent(EpochA, 13, Channel::Downloads);
    emit m_broker.eventReceived(after);
    QTRY_COMPARE_WITH_TIMEOUT(onDownloads->events().size(), 3, 10000);
    QCOMPARE(onDownloads->events()[2].id, after.id.toByteArray());
    StreamParams resumedAfter = all;
    resumedAfter.lastEventId = after.id.toByteArray();
    Client *late = open(resumedAfter);
    QVERIFY(late);
    QTRY_COMPARE_WITH_TIMEOUT(late->events().size(), 1, 10000);
    QVERIFY(isType(late->events()[0].event.type, EventType::Connected));
    QTest::qWait(200);
    QCOMPARE(late->events().size(), 1);
    QVERIFY(m_metrics->render({}).contains(
        "hermes_events_lost_total{channel=\"download:updates\",reason=\"adopt_failed\"} 3\n"));
}

QTEST_GUILESS_MAIN(tst_EventHub)
#include "tst_eventhub.moc"
