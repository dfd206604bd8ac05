// hotpathbench: the per-event work of the hub, in isolation. An event from the bus is parsed
// once (Redis) and encoded once per style; what stays per stream is a filter check and a
// send. Prints ns per operation; asserts nothing.

#include "stream/encodedevent.h"
#include "event.h"
#include "sseparser.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>

using namespace Hermes;

template<typename F>
static void measure(const char *name, int iterations, F &&f)
{
    for (int i = 0; i < iterations / 10; ++i) // warm-up
        f(i);
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < iterations; ++i)
        f(i);
    const double ns = double(timer.nsecsElapsed()) / iterations;
    std::printf("%-44s %10.0f ns/op  (%d ops)\n", name, ns, iterations);
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QByteArray python =
        "{\"type\": \"download_progress\", \"data\": {\"download_id\": \"0b8a7c2e\", \"status\": "
        "\"downloading\", \"progress\": {\"percentage\": 42.5, \"status\": \"downloading\", "
        "\"downloaded_bytes\": 445644800, \"total_bytes\": 1048576000, \"speed\": 5242880.0, "
        "\"eta\": 115}, \"error_message\": null}, \"timestamp\": \"2026-11-24T10:00:00.123456\"}";
    Event event = *Event::fromEnvelope(Channel::Downloads, python);
    event.id = EventId(1795560047588, 0);

    volatile qsizetype sink = 0;
    measure("parse a Python envelope (Redis message)", 200000, [&](int) {
        const Result<Event> e = Event::fromEnvelope(Channel::Downloads, python);
        sink = sink + e->type.size();
    });
    measure("encode an event in both styles", 200000, [&](int) {
        sink = sink + EncodedEvent::encode(event)->frames[0].size();
    });
    const EncodedEventPtr encoded = EncodedEvent::encode(event);
    StreamFilter all;
    StreamFilter one;
    one.downloadId = QStringLiteral("0b8a7c2e");
    measure("filter check, unfiltered stream", 10000000, [&](int) { sink = sink + all.matches(*encoded); });
    measure("filter check, per-download stream", 10000000, [&](int) { sink = sink + one.matches(*encoded); });
    measure("share the frame with a stream (refcount)", 10000000, [&](int) {
        QByteArray copy = encoded->frames[0];
        sink = sink + copy.size();
    });
    const QByteArray wire = encoded->frames[0];
    SseParser parser;
    parser.setEventHandler([&](const SseParser::Event &e) { sink = sink + e.data.size(); });
    measure("parse the frame (client side, SseParser)", 200000, [&](int) { parser.feed(wire); });
    std::printf("frame size: %lld bytes (envelope), %lld bytes (named)\n",
                qint64(encoded->frames[0].size()), qint64(encoded->frames[1].size()));
    return 0;
}
