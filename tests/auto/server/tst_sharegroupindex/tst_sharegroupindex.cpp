// ShareGroupIndex against a model: streams with random filters, styles and framings come and
// go and turn live and back; after every step the groups, their live lists and the download-id
// index must be what the streams say, groups are reused (the table never grows past the most
// distinct groups ever open at once), and a round frames exactly the events each concerned
// group's filter passes, for exactly the groups with live streams it concerns. Seeded
// (HERMES_SHAREGROUPINDEX_SEED), the seed printed.

#include "stream/sharegroupindex.h"

#include <QRandomGenerator>
#include <QTest>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>

using namespace Hermes;

class tst_ShareGroupIndex : public QObject
{
    Q_OBJECT

private slots:
    void equalFiltersShareAGroupAndGroupsAreReused();
    void theIndexFollowsStreamsThatComeAndGo();
};

namespace {

const QStringList Downloads{QString(), QStringLiteral("dl-1"), QStringLiteral("dl-2"),
                            QStringLiteral("dl-3")};

std::unique_ptr<StreamConnection> stream(const StreamParams &params)
{
    return std::make_unique<StreamConnection>(-1, params, 0); // no socket: never sends
}

StreamParams params(const QString &downloadId, EventStyle style = EventStyle::Envelope,
                    bool chunked = true)
{
    StreamParams p;
    p.filter.downloadId = downloadId;
    p.style = style;
    p.chunked = chunked;
    return p;
}

/// What makes streams share a group, as the test sees it.
using Shape = std::tuple<Channel::Mask, QString, QStringList, int, bool>;
Shape shapeOf(const StreamConnection &c)
{
    QStringList types(c.filter().types.cbegin(), c.filter().types.cend());
    types.sort();
    return {c.filter().channels, c.filter().downloadId, types, int(c.style()), c.chunked()};
}

EncodedEventPtr makeEvent(quint64 n, QRandomGenerator &rng)
{
    auto e = std::make_shared<EncodedEvent>();
    e->id = EventId(n, 0, 1);
    e->channel = *Channel::fromIndex(int(rng.bounded(Channel::Count)));
    e->type = rng.bounded(2) ? QStringLiteral("a") : QStringLiteral("b");
    e->downloadId = Downloads[int(rng.bounded(quint32(Downloads.size())))];
    e->frames[int(EventStyle::Envelope)] = "E" + QByteArray::number(n) + '\n';
    e->frames[int(EventStyle::Named)] = "N" + QByteArray::number(n) + '\n';
    return e;
}

} // namespace

void tst_ShareGroupIndex::equalFiltersShareAGroupAndGroupsAreReused()
{
    ShareGroupIndex index;
    auto a = stream(params(QStringLiteral("dl-1")));
    auto b = stream(params(QStringLiteral("dl-1")));
    auto named = stream(params(QStringLiteral("dl-1"), EventStyle::Named));
    auto plain = stream(params(QStringLiteral("dl-1"), EventStyle::Envelope, false));
    auto everything = stream(params(QString()));
    const int ga = index.join(*a);
    QCOMPARE(index.join(*b), ga);
    const int gn = index.join(*named);
    const int gp = index.join(*plain);
    const int ge = index.join(*everything);
    QCOMPARE(std::set<int>({ga, gn, gp, ge}).size(), size_t(4));
    QCOMPARE(index.size(), 4);
    QCOMPARE(index.group(ga).users, 2);
    QCOMPARE(index.groupsOfDownload(QStringLiteral("dl-1")).size(), size_t(3));
    QCOMPARE(index.anyDownloadGroups(), std::vector<int>{ge});

    index.leave(ga);
    QCOMPARE(index.size(), 4); // b is still in it
    index.leave(ga);
    QCOMPARE(index.size(), 3);
    QCOMPARE(index.groupsOfDownload(QStringLiteral("dl-1")).size(), size_t(2));
    // Another filter takes the free group instead of growing the table.
    auto other = stream(params(QStringLiteral("dl-9")));
    QCOMPARE(index.join(*other), ga);
    QCOMPARE(index.capacity(), 4);
    QCOMPARE(index.groupsOfDownload(QStringLiteral("dl-9")), std::vector<int>{ga});
    index.leave(gn);
    index.leave(gp);
    index.leave(ga);
    QVERIFY(index.groupsOfDownload(QStringLiteral("dl-1")).empty());
    QVERIFY(index.groupsOfDownload(QStringLiteral("dl-9")).empty());
    QCOMPARE(index.size(), 1);
}

void tst_ShareGroupIndex::theIndexFollowsStreamsThatComeAndGo()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_SHAREGROUPINDEX_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_SHAREGROUPINDEX_SEED"))
        : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_SHAREGROUPINDEX_SEED to repeat)", seed);
    QRandomGenerator rng(seed);
    const QByteArray seedNote = "seed " + QByteArray::number(seed);

    ShareGroupIndex index;
    std::vector<std::unique_ptr<StreamConnection>> streams;
    size_t peakShapes = 0;
    quint64 eventNumber = 0;

    const auto check = [&] {
        // Groups: one per shape, the streams' own.
        std::map<Shape, int> groupOfShape;
        std::map<int, int> users;
        size_t live = 0;
        for (const auto &c : streams) {
            const auto [it, inserted] = groupOfShape.emplace(shapeOf(*c), c->shareGroup());
            QVERIFY2(it->second == c->shareGroup(), seedNote.constData()); // same shape, same group
            ++users[c->shareGroup()];
            const ShareGroupIndex::Group &g = index.group(c->shareGroup());
            QVERIFY2(g.filter.downloadId == c->filter().downloadId && g.style == c->style()
                         && g.chunked == c->chunked(), seedNote.constData());
            if (c->isLive()) {
                ++live;
                QVERIFY2(g.live.at(size_t(c->liveIndex)) == c.get(), seedNote.constData());
            }
        }
        QCOMPARE(size_t(index.size()), groupOfShape.size()); // distinct shapes, distinct groups
        peakShapes = std::max(peakShapes, groupOfShape.size());
        QVERIFY2(size_t(index.capacity()) <= peakShapes, seedNote.constData()); // reused
        size_t inLiveLists = 0;
        std::set<int> anyDownload;
        std::map<QString, std::set<int>> byDownload;
        for (const auto &[shape, group] : groupOfShape) {
            QCOMPARE(index.group(group).users, users[group]);
            inLiveLists += index.group(group).live.size();
            if (std::get<1>(shape).isEmpty())
                anyDownload.insert(group);
            else
                byDownload[std::get<1>(shape)].insert(group);
        }
        QCOMPARE(inLiveLists, live);
        const std::vector<int> &any = index.anyDownloadGroups();
        QCOMPARE(std::set<int>(any.begin(), any.end()), anyDownload);
        QCOMPARE(any.size(), anyDownload.size());
        for (const QString &id : Downloads) {
            if (id.isEmpty())
                continue;
            const std::vector<int> groups = index.groupsOfDownload(id);
            QCOMPARE(std::set<int>(groups.begin(), groups.end()), byDownload[id]);
            QCOMPARE(groups.size(), byDownload[id].size());
        }
    };

    const auto round = [&] {
        std::vector<EncodedEventPtr> events;
        const int n = 1 + int(rng.bounded(6));
        for (int i = 0; i < n; ++i)
            events.push_back(makeEvent(++eventNumber, rng));
        const std::vector<int> touched = index.frameRound(events.data(), events.data() + events.size());
        // The groups concerned: those with live streams that take every download or the
        // download of one of the events; each framed once, with what its filter passes.
        std::set<int> expected;
        for (const auto &c : streams) {
            const ShareGroupIndex::Group &g = index.group(c->shareGroup());
            if (g.live.empty())
                continue;
            const bool concerned = g.filter.downloadId.isEmpty()
                || std::any_of(events.begin(), events.end(), [&](const EncodedEventPtr &e) {
                       return e->downloadId == g.filter.downloadId;
                   });
            if (concerned)
                expected.insert(c->shareGroup());
        }
        QCOMPARE(std::set<int>(touched.begin(), touched.end()), expected);
        QCOMPARE(touched.size(), expected.size());
        for (int group : touched) {
            const ShareGroupIndex::Group &g = index.group(group);
            QByteArray bytes;
            quint64 perChannel[Channel::Count] = {};
            for (const EncodedEventPtr &e : events) {
                if (g.filter.matches(*e)) {
                    bytes += e->frame(g.style);
                    ++perChannel[e->channel.index()];
                }
            }
            QCOMPARE(g.bytes, bytes);
            for (int i = 0; i < Channel::Count; ++i)
                QCOMPARE(g.perChannel[i], perChannel[i]);
        }
        index.endRound();
        for (int group : touched)
            QVERIFY(index.group(group).bytes.isEmpty());
    };

    for (int step = 0; step < 3000 && !QTest::currentTestFailed(); ++step) {
        const quint32 op = rng.bounded(10);
        if (op < 4 || streams.empty()) {
            StreamParams p;
            p.filter.downloadId = Downloads[int(rng.bounded(quint32(Downloads.size())))];
            if (rng.bounded(3) == 0)
                p.filter.channels = Channel::fromIndex(int(rng.bounded(Channel::Count)))->bit();
            if (rng.bounded(4) == 0)
                p.filter.types = {QStringLiteral("a")};
            p.style = rng.bounded(2) ? EventStyle::Named : EventStyle::Envelope;
            p.chunked = rng.bounded(4) != 0;
            auto c = stream(p);
            c->setShareGroup(index.join(*c));
            if (rng.bounded(2))
                index.makeLive(*c);
            streams.push_back(std::move(c));
        } else if (op < 7) {
            const size_t i = rng.bounded(quint32(streams.size()));
            StreamConnection &c = *streams[i];
            if (c.isLive())
                index.leaveLive(c);
            index.leave(c.shareGroup());
            streams.erase(streams.begin() + qsizetype(i));
        } else if (op < 9) {
            StreamConnection &c = *streams[rng.bounded(quint32(streams.size()))];
            if (c.isLive())
                index.leaveLive(c);
            else
                index.makeLive(c);
        } else {
            round();
        }
        check();
    }
    QVERIFY2(!QTest::currentTestFailed(), seedNote.constData());
}

QTEST_GUILESS_MAIN(tst_ShareGroupIndex)
#include "tst_sharegroupindex.moc"
