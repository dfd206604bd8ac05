// AdoptRetryQueue: outside messages whose adoption failed wait for another attempt with
// backoff, keep their order, are bounded by count and by bytes (the oldest give up), and are
// given up at their limit, never before. A seeded random run checks it against a simple model.

#include "broker/adoptretryqueue.h"

#include <QRandomGenerator>
#include <QTest>

#include <map>

using namespace Hermes;

class tst_AdoptRetryQueue : public QObject
{
    Q_OBJECT

private slots:
    void retriesWithBackoffThenGivesUpAtTheLimit();
    void boundedByCountTheOldestGiveUp();
    void boundedByBytesTheOldestGiveUp();
    void aMessageBehindOthersWaitsWithThem();
    void successEndsItAndStaleTicketsAreIgnored();
    void randomOperationsKeepTheBoundsAndGiveUpNothingEarly();
};

using Entry = AdoptRetryQueue::Entry;

static AdoptRetryQueue::Limits limits(int entries, qint64 bytes, qint64 giveUpMs)
{
    AdoptRetryQueue::Limits l;
    l.maxEntries = entries;
    l.maxBytes = bytes;
    l.giveUpAfterMs = giveUpMs;
    l.baseDelayMs = 100;
    l.maxDelayMs = 1000;
    return l;
}

static const auto NoJitter = [] { return 1.0; }; // equal jitter at its top: the bound itself

void tst_AdoptRetryQueue::retriesWithBackoffThenGivesUpAtTheLimit()
{
    AdoptRetryQueue q(limits(10, 1000, 3000), NoJitter);
    std::vector<Entry> givenUp;
    const quint64 t = q.add(Channel::System, "m", EventId(5, 0, 1), 0, true, &givenUp);
    QVERIFY(givenUp.empty());
    QCOMPARE(q.nextWakeMs(), std::optional<qint64>(100));
    QVERIFY(q.startDue(99).empty());
    qint64 now = 100;
    QList<qint64> attempts;
    for (int i = 0; i < 50 && !q.isEmpty(); ++i) {
        const std::optional<qint64> wake = q.nextWakeMs();
        QVERIFY(wake);
        now = *wake;
        q.expire(now, &givenUp);
        const auto due = q.startDue(now);
        if (due.empty())
            continue;
        QCOMPARE(due.size(), size_t(1));
        QCOMPARE(due[0].ticket, t);
        QVERIFY(q.nextWakeMs() == std::nullopt); // in flight: nothing to wake for
        attempts.append(now);
        q.failed(t, now, &givenUp);
    }
    // 100, then doubling up to the cap (1000), the last one at the limit itself.
    QCOMPARE(attempts, (QList<qint64>{100, 300, 700, 1500, 2500, 3000}));
    QCOMPARE(givenUp.size(), size_t(1));
    QCOMPARE(givenUp[0].payload, QByteArray("m"));
    QCOMPARE(givenUp[0].after, EventId(5, 0, 1));
    QCOMPARE(givenUp[0].attempts, 7);
    QVERIFY(q.isEmpty());
    QCOMPARE(q.bytes(), 0);
}

void tst_AdoptRetryQueue::boundedByCountTheOldestGiveUp()
{
    AdoptRetryQueue q(limits(3, 1 << 20, 30000));
    std::vector<Entry> givenUp;
    for (int i = 0; i < 5; ++i)
        q.add(Channel::Queue, QByteArray::number(i), {}, i, true, &givenUp);
    QCOMPARE(q.size(), 3);
    QCOMPARE(givenUp.size(), size_t(2));
    QCOMPARE(givenUp[0].payload, QByteArray("0"));
    QCOMPARE(givenUp[1].payload, QByteArray("1"));
}

void tst_AdoptRetryQueue::boundedByBytesTheOldestGiveUp()
{
    AdoptRetryQueue q(limits(1000, 250, 30000));
    std::vector<Entry> givenUp;
    for (int i = 0; i < 3; ++i)
        q.add(Channel::Downloads, QByteArray(100, char('a' + i)), {}, 0, true, &givenUp);
    QCOMPARE(q.size(), 2);
    QCOMPARE(q.bytes(), 200);
    QCOMPARE(givenUp.size(), size_t(1));
    QCOMPARE(givenUp[0].payload.front(), 'a');
    // One larger than the bound alone stays (everything older goes).
    q.add(Channel::Downloads, QByteArray(400, 'z'), {}, 0, true, &givenUp);
    QCOMPARE(q.size(), 1);
    QCOMPARE(q.bytes(), 400);
    QCOMPARE(givenUp.size(), size_t(3));
}

void tst_AdoptRetryQueue::aMessageBehindOthersWaitsWithThem()
{
    AdoptRetryQueue q(limits(10, 1000, 30000), NoJitter);
    std::vector<Entry> givenUp;
    q.add(Channel::System, "first", {}, 0, true, &givenUp);  // due at 100
    q.add(Channel::System, "second", {}, 10, false, &givenUp); // not tried: goes with it
    const auto due = q.startDue(100);
    QCOMPARE(due.size(), size_t(2));
    QCOMPARE(due[0].payload, QByteArray("first"));
    QCOMPARE(due[1].payload, QByteArray("second"));
    QVERIFY(due[0].ticket < due[1].ticket);
}

void tst_AdoptRetryQueue::successEndsItAndStaleTicketsAreIgnored()
{
    AdoptRetryQueue q(limits(1, 1000, 30000));
    std::vector<Entry> givenUp;
    const quint64 a = q.add(Channel::System, "a", {}, 0, true, &givenUp);
    const auto due = q.startDue(10000);
    QCOMPARE(due.size(), size_t(1));
    // Pushed out while in flight: its answer, whatever it is, changes nothing.
    const quint64 b = q.add(Channel::System, "b", {}, 10000, true, &givenUp);
    QCOMPARE(givenUp.size(), size_t(1));
    q.failed(a, 10001, &givenUp);
    q.succeeded(a);
    QCOMPARE(givenUp.size(), size_t(1));
    QCOMPARE(q.size(), 1);
    q.succeeded(b);
    QVERIFY(q.isEmpty());
    QCOMPARE(q.bytes(), 0);
}

// A model: each message is either waiting (with its first time), adopted, or given up; the
// queue never holds more than its bounds, gives nothing up before its limit unless the queue
// was full, and gives everything up by its limit (plus the time the driver lets pass).
void tst_AdoptRetryQueue::randomOperationsKeepTheBoundsAndGiveUpNothingEarly()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? qEnvironmentVariable("HERMES_TEST_SEED").toUInt()
        : QRandomGenerator::global()->generate();
    QRandomGenerator rng(seed);
    auto fail = qScopeGuard([seed] { qWarning() << "seed" << seed << "(HERMES_TEST_SEED)"; });
    const int maxEntries = 1 + int(rng.bounded(100));
    const qint64 maxBytes = 50 + rng.bounded(5000);
    const qint64 limitMs = 200 + rng.bounded(3000);
    AdoptRetryQueue q(limits(maxEntries, maxBytes, limitMs), [&rng] { return rng.generateDouble(); });
    struct Model { qint64 firstMs; bool done = false; };
    std::map<QByteArray, Model> model; // payload → state
    std::vector<Entry> inFlight;
    qint64 now = 0;
    int adopted = 0, pushedOut = 0, expired = 0;
    for (int step = 0; step < 20000; ++step) {
        now += rng.bounded(50);
        std::vector<Entry> givenUp;
        const int op = int(rng.bounded(4));
        bool overBound = false; // the add found the queue too full for the new one
        switch (op) {
        case 0: {
            const QByteArray payload = QByteArray::number(step) + QByteArray(rng.bounded(60), 'x');
            model[payload] = {now};
            overBound = q.size() + 1 > maxEntries || q.bytes() + payload.size() > maxBytes;
            q.add(Channel::all()[rng.bounded(3)], payload, {}, now, rng.bounded(2), &givenUp);
            break;
        }
        case 1:
            q.expire(now, &givenUp);
            for (const Entry &e : q.startDue(now))
                inFlight.push_back(e);
            break;
        default:
            if (!inFlight.empty()) {
                const size_t i = rng.bounded(quint32(inFlight.size()));
                const Entry e = inFlight[i];
                inFlight.erase(inFlight.begin() + qsizetype(i));
                if (rng.bounded(4) == 0) {
                    q.succeeded(e.ticket);
                    if (!model[e.payload].done) {
                        model[e.payload].done = true;
                        ++adopted;
                    }
                } else {
                    q.failed(e.ticket, now, &givenUp);
                }
            }
            break;
        }
        for (const Entry &e : givenUp) {
            Model &m = model[e.payload];
            QVERIFY2(!m.done, e.payload.constData());
            m.done = true;
            // Before its limit only to make room for a new one (the queue is at a bound).
            const bool full = op == 0 && overBound;
            if (now - m.firstMs < limitMs) {
                QVERIFY2(full, qPrintable(QStringLiteral("given up after %1 ms of %2 (op %3, %4 entries, %5 bytes of %6, its %7)").arg(now - m.firstMs).arg(limitMs).arg(op).arg(q.size()).arg(q.bytes()).arg(maxBytes).arg(e.payload.size())));
                ++pushedOut;
            } else {
                ++expired;
            }
        }
        QVERIFY(q.size() <= maxEntries);
        QVERIFY(q.size() == 1 || q.bytes() <= maxBytes);
        // Nothing stays past its limit while the driver keeps calling (in flight excepted).
        for (auto &[payload, m] : model) {
            if (!m.done && now - m.firstMs > limitMs + 2000) {
                bool flying = false;
                for (const Entry &e : inFlight)
                    flying |= e.payload == payload;
                QVERIFY2(flying, payload.constData());
            }
        }
    }
    qInfo() << "seed" << seed << ":" << model.size() << "messages," << adopted << "adopted,"
            << pushedOut << "pushed out," << expired << "expired";
    fail.dismiss();
}

QTEST_MAIN(tst_AdoptRetryQueue)
#include "tst_adoptretryqueue.moc"
