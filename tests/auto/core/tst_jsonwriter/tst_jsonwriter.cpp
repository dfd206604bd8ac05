// JsonWriter and DownloadResource::writeJson give the bytes QJsonDocument gives for the same
// values: strings of every kind of character, numbers, nulls, and whole rows at random. List
// pages and the queue are written with the writer (issue 27); a client must not see a change.

#include "jsonwriter.h"
#include "protocol/payloads.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

#include <cmath>
#include <limits>

using namespace Hermes;

class tst_JsonWriter : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void strings_data();
    void strings();
    void numbers();
    void nesting();
    void randomStrings();
    void randomRows();

private:
    quint32 m_seed = 0;
};

static QByteArray compact(const QJsonValue &v)
{
    // QJsonDocument writes objects and arrays only: a value goes in an array of one.
    const QByteArray a = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
    return a.mid(1, a.size() - 2);
}

static QByteArray written(const std::function<void(JsonWriter &)> &write)
{
    QByteArray out;
    JsonWriter w(&out);
    write(w);
    return out;
}

void tst_JsonWriter::initTestCase()
{
    // HERMES_TEST_SEED=<number> repeats a run; a failure names its seed.
    bool ok = false;
    m_seed = qEnvironmentVariable("HERMES_TEST_SEED").toUInt(&ok);
    if (!ok)
        m_seed = QRandomGenerator::global()->generate();
    qInfo("seed %u", m_seed);
}

void tst_JsonWriter::strings_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("ascii") << QStringLiteral("https://example.org/a b?c=d#e");
    QTest::newRow("quote and backslash") << QStringLiteral("say \"hi\" \\ there /");
    QString controls;
    for (char16_t c = 0; c < 0x20; ++c)
        controls += QChar(c);
    controls += QChar(0x7f);
    QTest::newRow("control characters") << controls;
    QTest::newRow("two-byte") << QStringLiteral("café ñ ß");
    QTest::newRow("three-byte") << QStringLiteral("日本語 € \u2028\u2029 \ufeff \ufffe \uffff");
    QTest::newRow("pair") << QString::fromUcs4(U"\U0001F600 \U00010000 \U0010FFFF");
    QTest::newRow("lone high") << QString(QChar(0xd800)) + u'x';
    QTest::newRow("lone low") << u'x' + QString(QChar(0xdc00));
    QTest::newRow("high at the end") << u'x' + QString(QChar(0xdbff));
    QTest::newRow("two highs") << QString(QChar(0xd83d)) + QChar(0xd83d) + QChar(0xde00);
    QTest::newRow("long") << QString(100000, QChar(u'\u00e9')) + QString(5000, QChar(u'\n'));
}

void tst_JsonWriter::strings()
{
    QFETCH(QString, text);
    QCOMPARE(written([&](JsonWriter &w) { w.string(text); }), compact(text));
}

void tst_JsonWriter::numbers()
{
    const double values[] = {0.0, -0.0, 1.0, -1.0, 0.1, 12.5, 100.0, 1e6, 1e15, 1e16, 1e21, -1e21,
                             123456789012.0, 9007199254740993.0, 9.2233720368547e18, 9223372036854775808.0,
                             -9223372036854775808.0, 2.5e-7, 1e-300, 5e-324, std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(), 99.99999999999999, 1.0 / 3};
    for (const double d : values)
        QVERIFY2(written([d](JsonWriter &w) { w.number(d); }) == compact(d), qPrintable(QString::number(d, 'g', 17)));
    const qint64 integers[] = {0, 1, -1, 1000, std::numeric_limits<qint64>::max(), std::numeric_limits<qint64>::min()};
    for (const qint64 n : integers)
        QCOMPARE(written([n](JsonWriter &w) { w.integer(n); }), compact(n));
}

void tst_JsonWriter::nesting()
{
    const QByteArray out = written([](JsonWriter &w) {
        w.beginObject();
        w.key(u"a").beginArray();
        w.integer(1);
        w.beginObject();
        w.endObject();
        w.beginArray();
        w.endArray();
        w.null();
        w.boolean(true);
        w.boolean(false);
        w.endArray();
        w.key(u"b").stringOrNull(u"");
        w.key(u"c").stringOrNull(u"x");
        w.key(u"d").raw("{\"e\":[]}");
        w.endObject();
    });
    QCOMPARE(out, QByteArray(R"({"a":[1,{},[],null,true,false],"b":null,"c":"x","d":{"e":[]}})"));
}

// A string of `n` UTF-16 units drawn from every range the escaping treats apart.
static QString randomText(QRandomGenerator &rng, int n)
{
    QString s;
    for (int i = 0; i < n; ++i) {
        switch (rng.bounded(8)) {
        case 0: s += QChar(char16_t(rng.bounded(0x20))); break;              // control
        case 1: s += QChar(u"\"\\/\x7f"[rng.bounded(4)]); break;            // escaped or near
        case 2: s += QChar(char16_t(0x80 + rng.bounded(0x780))); break;      // two bytes
        case 3: s += QChar(char16_t(0x800 + rng.bounded(0xd000))); break;    // three bytes
        case 4: s += QChar(char16_t(0xd800 + rng.bounded(0x800))); break;    // a surrogate, maybe lone
        case 5: s += QString::fromUcs4(std::u32string(1, char32_t(0x10000 + rng.bounded(0x100000))).data(), 1); break;
        case 6: s += QChar(char16_t(0xe000 + rng.bounded(0x2000))); break;   // up to U+FFFF
        default: s += QChar(char16_t(0x20 + rng.bounded(0x5f))); break;     // printable ASCII
        }
    }
    return s;
}

void tst_JsonWriter::randomStrings()
{
    QRandomGenerator rng(m_seed);
    for (int round = 0; round < 2000; ++round) {
        const QString text = randomText(rng, rng.bounded(round % 100 == 0 ? 5000 : 40));
        const QByteArray ours = written([&](JsonWriter &w) { w.string(text); });
        QVERIFY2(ours == compact(text), qPrintable(QStringLiteral("seed %1 round %2").arg(m_seed).arg(round)));
    }
}

void tst_JsonWriter::randomRows()
{
    QRandomGenerator rng(m_seed);
    auto text = [&rng]() {
        const int kind = rng.bounded(4);
        return kind == 0 ? QString() : randomText(rng, kind == 3 ? rng.bounded(3000) : rng.bounded(30));
    };
    auto maybe = [&rng]() { return rng.bounded(3) != 0; };
    auto number = [&rng]() {
        switch (rng.bounded(4)) {
        case 0: return 0.0;
        case 1: return double(rng.bounded(1000));
        case 2: return rng.generateDouble() * 100;
        default: return std::ldexp(rng.generateDouble(), rng.bounded(-60, 80));
        }
    };
    auto big = [&rng]() { return qint64(rng.generate64() >> rng.bounded(64)) * (rng.bounded(2) ? 1 : -1); };
    auto time = [&rng]() {
        if (rng.bounded(5) == 0)
            return QDateTime();
        return QDateTime::fromMSecsSinceEpoch(qint64(rng.bounded(quint64(4000000000))) * 1000 + rng.bounded(1000), Qt::UTC);
    };
    for (int round = 0; round < 3000; ++round) {
        DownloadResource d;
        d.id = text();
        d.url = text();
        d.filename = text();
        if (maybe())
            d.status = rng.bounded(2) ? ReceivedStatus::of(DownloadStatus(rng.bounded(7))) : ReceivedStatus{std::nullopt, text()};
        d.priority = rng.bounded(-1000, 1001);
        d.position = big();
        if (maybe()) {
            DownloadProgressInfo p;
            if (maybe())
                p.percentage = number();
            if (maybe())
                p.status = d.status;
            if (maybe())
                p.downloadedBytes = big();
            if (maybe())
                p.totalBytes = big();
            p.speed = number();
            if (maybe())
                p.eta = big();
            d.progress = p;
        }
        d.downloadedBytes = big();
        if (maybe())
            d.totalBytes = big();
        d.sha256 = text();
        d.errorMessage = text();
        d.note = text();
        d.attempts = int(rng.generate());
        if (maybe()) {
            DownloadPhaseInfo p = rng.bounded(2) ? DownloadPhaseInfo::of(DownloadPhase(rng.bounded(5))) : DownloadPhaseInfo();
            if (maybe())
                p.phaseText = text();
            if (maybe())
                p.attempt = int(rng.generate());
            if (maybe())
                p.maxAttempts = int(rng.generate());
            p.nextAttemptAt = time();
            d.phase = p;
        }
        d.createdAt = time();
        d.updatedAt = text();
        d.completedAt = time();
        const QByteArray expected = QJsonDocument(d.toJson()).toJson(QJsonDocument::Compact);
        const QByteArray ours = d.toJsonBytes();
        qsizetype at = 0;
        while (at < ours.size() && at < expected.size() && ours[at] == expected[at])
            ++at;
        QVERIFY2(ours == expected, qPrintable(QStringLiteral("seed %1 round %2, byte %3\nours:     %4\nexpected: %5")
                                                  .arg(m_seed).arg(round).arg(at)
                                                  .arg(QString::fromLatin1(ours.mid(qMax(0, at - 60), 120).toHex()),
                                                       QString::fromLatin1(expected.mid(qMax(0, at - 60), 120).toHex()))));
    }
}

QTEST_APPLESS_MAIN(tst_JsonWriter)
#include "tst_jsonwriter.moc"
