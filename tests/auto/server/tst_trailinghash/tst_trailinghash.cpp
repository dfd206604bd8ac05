// TrailingHash: the SHA-256 of a part file taken on the hash threads behind the writes. The
// digest is of exactly the bytes waited for, over any pattern of writes and restarts (a seeded
// walk against QCryptographicHash over what the file holds); a file shorter than said gives no
// digest rather than a wrong one; cancel() and a context that is gone answer nothing, and the
// hash lets go of its descriptor once its last step ends.

#include "downloads/trailinghash.h"

#include <QCryptographicHash>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <functional>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace Hermes;

class tst_TrailingHash : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void digestOfWhatWasWritten();
    void randomWritesAndRestarts();
    void shortFileGivesNoDigest();
    void exactlyTheBytesWaitedFor();
    void cancelAnswersNothingAndLetsGo();
    void goneContextIsNotCalled();

private:
    static QString hex(const QByteArray &bytes)
    {
        return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    }
    static QByteArray bytes(qsizetype size, quint32 seed)
    {
        std::vector<quint32> words(size_t(size / 4 + 1));
        QRandomGenerator(seed).fillRange(words.data(), words.size());
        return QByteArray(reinterpret_cast<const char *>(words.data()), size);
    }
    void append(const QByteArray &b)
    {
        QVERIFY(::pwrite(m_fd, b.constData(), size_t(b.size()), m_size) == b.size());
        m_size += b.size();
    }
    /// The answer for bytes [0, end), waited for at most 20 s; "(none)" when none came.
    /// `then` runs once the waiter is in.
    QString waitFor(const std::shared_ptr<TrailingHash> &hash, qint64 end, const std::function<void()> &then = {})
    {
        QString answer = QStringLiteral("(none)");
        bool answered = false;
        QObject context;
        hash->whenHashed(&context, end, [&](const QString &digest) {
            answer = digest;
            answered = true;
        });
        if (then)
            then();
        [[maybe_unused]] const bool in = QTest::qWaitFor([&] { return answered; }, 20000);
        return answer;
    }

    QTemporaryDir m_dir;
    int m_fd = -1;
    qint64 m_size = 0;
};

void tst_TrailingHash::init()
{
    QVERIFY(m_dir.isValid());
    m_fd = ::open(QFile::encodeName(m_dir.filePath(QStringLiteral("f.part"))).constData(),
                  O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    QVERIFY(m_fd >= 0);
    m_size = 0;
}

void tst_TrailingHash::cleanup()
{
    ::close(m_fd);
}

void tst_TrailingHash::digestOfWhatWasWritten()
{
    const auto hash = TrailingHash::create(m_fd);
    QVERIFY(hash);
    // Several steps (StepBytes each), written in blocks as a transfer does.
    const QByteArray content = bytes(3 * TrailingHash::StepBytes + 12345, 7);
    for (qsizetype at = 0; at < content.size(); at += 1024 * 1024) {
        append(content.mid(at, 1024 * 1024));
        hash->written(m_size);
    }
    QCOMPARE(waitFor(hash, content.size()), hex(content));
    QCOMPARE(waitFor(hash, 0), QString()); // past it already: no digest of a prefix
}

void tst_TrailingHash::randomWritesAndRestarts()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED=%u reproduces it)", seed, seed);
    QRandomGenerator rng(seed);
    for (int round = 0; round < 8; ++round) {
        QVERIFY(::ftruncate(m_fd, 0) == 0);
        m_size = 0;
        const auto hash = TrailingHash::create(m_fd);
        QByteArray held; // what the file holds
        const int writes = 1 + int(rng.bounded(40));
        for (int w = 0; w < writes; ++w) {
            if (w > 0 && rng.bounded(8) == 0) {
                // A restart from zero, as Transfer does it: the hash first, then the cut —
                // often while a step is reading.
                hash->restart();
                QVERIFY(::ftruncate(m_fd, 0) == 0);
                m_size = 0;
                held.clear();
            }
            const QByteArray b = bytes(1 + qsizetype(rng.bounded(3 * 1024 * 1024)), seed + quint32(round * 100 + w));
            append(b);
            held += b;
            hash->written(m_size);
            if (rng.bounded(4) == 0)
                QTest::qWait(int(rng.bounded(5))); // let steps run between writes
        }
        const QString context = QStringLiteral("seed %1 round %2: %3 writes, %4 bytes held")
                                    .arg(seed).arg(round).arg(writes).arg(held.size());
        QVERIFY2(waitFor(hash, held.size()) == hex(held), qPrintable(context));
    }
}

void tst_TrailingHash::shortFileGivesNoDigest()
{
    const auto hash = TrailingHash::create(m_fd);
    append(bytes(100000, 8));
    hash->written(200000); // more than the file holds (something else cut it)
    QCOMPARE(waitFor(hash, 200000), QString());
}

void tst_TrailingHash::exactlyTheBytesWaitedFor()
{
    const auto hash = TrailingHash::create(m_fd);
    const QByteArray content = bytes(2 * TrailingHash::StepBytes + 5000, 9);
    const qint64 half = content.size() / 2; // not on a step's edge
    append(content);
    // Waited for before the hash knows of the bytes: the step stops at the bytes waited for.
    QCOMPARE(waitFor(hash, half, [&] { hash->written(m_size); }), hex(content.left(half)));
    QCOMPARE(waitFor(hash, content.size()), hex(content)); // and on to the end
    QCOMPARE(waitFor(hash, half), QString()); // passed: never the digest of other bytes
}

void tst_TrailingHash::cancelAnswersNothingAndLetsGo()
{
    auto hash = TrailingHash::create(m_fd);
    append(bytes(8 * TrailingHash::StepBytes, 10));
    hash->written(m_size);
    bool called = false;
    QObject context;
    hash->whenHashed(&context, m_size, [&](const QString &) { called = true; });
    hash->cancel();
    const std::weak_ptr<TrailingHash> weak = hash;
    hash.reset();
    // The running step stops at its next block and drops the last reference (the duplicate
    // descriptor with it); nothing is answered.
    QVERIFY(QTest::qWaitFor([&] { return weak.expired(); }, 10000));
    QTest::qWait(50);
    QVERIFY(!called);
}

void tst_TrailingHash::goneContextIsNotCalled()
{
    const auto hash = TrailingHash::create(m_fd);
    const QByteArray content = bytes(TrailingHash::StepBytes + 1, 11);
    append(content);
    hash->written(m_size);
    QCOMPARE(waitFor(hash, m_size), hex(content));
    bool called = false;
    {
        // Hashed already: answered at once, on the event loop — by then the context is gone.
        QObject context;
        hash->whenHashed(&context, m_size, [&](const QString &) { called = true; });
    }
    QTest::qWait(50);
    QVERIFY(!called);
}

QTEST_MAIN(tst_TrailingHash)
#include "tst_trailinghash.moc"
