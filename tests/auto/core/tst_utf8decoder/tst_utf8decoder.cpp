// Utf8Decoder: streaming gives the same text however the input is cut, valid UTF-8 decodes as
// QString::fromUtf8 does, and invalid input follows the maximal-subpart rule, checked against
// a simple model (a byte-at-a-time reading of the WHATWG algorithm's table). The vectors
// themselves are in tst_sseparser, through the parser.

#include "utf8decoder.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Hermes;

namespace {

/// The model: for each position, the length of the longest prefix of a well-formed sequence
/// (Unicode Table 3-7) starting there; 0 means the byte is its own maximal subpart.
int validPrefix(const QByteArray &b, qsizetype i, bool *complete)
{
    const auto at = [&](qsizetype k) { return k < b.size() ? uchar(b[k]) : 0x100; };
    const uchar c = uchar(b[i]);
    struct Row { uchar lo, hi; int len; uchar lo2, hi2; };
    static const Row rows[] = {
        {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
        {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
        {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
    };
    for (const Row &r : rows) {
        if (c < r.lo || c > r.hi)
            continue;
        int n = 1;
        if (at(i + 1) >= r.lo2 && at(i + 1) <= r.hi2) {
            ++n;
            while (n < r.len && at(i + n) >= 0x80 && at(i + n) <= 0xBF)
                ++n;
        }
        *complete = n == r.len;
        return n;
    }
    *complete = false;
    return 1;
}

int modelReplacements(const QByteArray &b)
{
    int count = 0;
    for (qsizetype i = 0; i < b.size();) {
        if (uchar(b[i]) < 0x80) {
            ++i;
            continue;
        }
        bool complete = false;
        const int n = validPrefix(b, i, &complete);
        count += !complete;
        i += n;
    }
    return count;
}

} // namespace

class tst_Utf8Decoder : public QObject
{
    Q_OBJECT

private slots:
    void randomInputAgainstTheModel();
};

void tst_Utf8Decoder::randomInputAgainstTheModel()
{
    const quint32 seed = QRandomGenerator::global()->generate();
    QRandomGenerator rng(seed);
    // Bytes drawn mostly from the interesting ranges, so that every kind of sequence occurs.
    static const uchar pool[] = {0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4,
                                 0xF5, 0xFF};
    for (int round = 0; round < 3000; ++round) {
        QByteArray input;
        const int len = int(rng.bounded(0, 24));
        for (int i = 0; i < len; ++i)
            input.append(char(pool[rng.bounded(int(sizeof pool))]));
        const QString whole = Utf8Decoder::toString(input);
        const QString why = QStringLiteral("seed %1 round %2 input %3").arg(seed).arg(round).arg(QString::fromLatin1(input.toHex(' ')));
        QVERIFY2(whole.count(QChar(0xFFFD)) == modelReplacements(input), qPrintable(why));
        if (modelReplacements(input) == 0)
            QVERIFY2(whole == QString::fromUtf8(input), qPrintable(why));
        // Cut into random pieces: the same text.
        Utf8Decoder decoder;
        QString pieces;
        for (qsizetype at = 0; at < input.size();) {
            const qsizetype n = rng.bounded(1, 5);
            decoder.decode(QByteArrayView(input).sliced(at, qMin(n, input.size() - at)), pieces);
            at += n;
        }
        decoder.flush(pieces);
        QVERIFY2(pieces == whole, qPrintable(why));
    }
}

QTEST_MAIN(tst_Utf8Decoder)
#include "tst_utf8decoder.moc"
