// ResponseOutput alone, over a QBuffer and a device that takes only so much: parts go out in
// order, never more than the room given, and are shared, not copied, until they are out.

#include "http/responseoutput.h"

#include <QBuffer>
#include <QTest>

using namespace Hermes;

namespace {

/// Takes at most `capacity` bytes in all, then nothing (a full socket).
class LimitedDevice final : public QIODevice
{
public:
    explicit LimitedDevice(qint64 capacity) : m_capacity(capacity) { open(QIODevice::WriteOnly); }
    QByteArray written;
    bool fail = false;

protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *data, qint64 size) override
    {
        if (fail)
            return -1;
        const qint64 n = qMin(size, m_capacity - written.size());
        written.append(data, n);
        return n;
    }

private:
    qint64 m_capacity;
};

} // namespace

class tst_ResponseOutput : public QObject
{
    Q_OBJECT

private slots:
    void partsGoOutInOrderWithinTheRoom()
    {
        ResponseOutput out;
        out.append("HEAD\r\n\r\n");
        out.append({});
        out.append(QByteArray(100, 'b'));
        QCOMPARE(out.pendingBytes(), 108);
        QBuffer device;
        device.open(QIODevice::WriteOnly);
        QCOMPARE(out.writeTo(device, 5), 5);
        QCOMPARE(out.writeTo(device, 50), 50);
        QCOMPARE(out.pendingBytes(), 53);
        QCOMPARE(out.writeTo(device, 1000), 53);
        QVERIFY(out.isEmpty());
        QCOMPARE(device.data(), "HEAD\r\n\r\n" + QByteArray(100, 'b'));
        QCOMPARE(out.writeTo(device, 1000), 0);
    }

    void aFullDeviceKeepsTheRest()
    {
        ResponseOutput out;
        out.append(QByteArray(30, 'a'));
        out.append(QByteArray(30, 'b'));
        LimitedDevice device(40);
        QCOMPARE(out.writeTo(device, 1000), 40);
        QCOMPARE(out.pendingBytes(), 20);
        QCOMPARE(out.writeTo(device, 1000), 0);
        QCOMPARE(out.pendingBytes(), 20);
        device.fail = true;
        QCOMPARE(out.writeTo(device, 1000), -1);
        QCOMPARE(out.pendingBytes(), 20);
        out.clear();
        QVERIFY(out.isEmpty());
        QCOMPARE(out.pendingBytes(), 0);
    }

    // A body served to many clients (the API document) is one buffer, however many wait for it.
    void partsAreSharedNotCopied()
    {
        QByteArray document(1 << 20, 'd');
        const char *data = document.constData();
        {
            ResponseOutput a;
            ResponseOutput b;
            a.append(document);
            b.append(document);
            QBuffer device;
            device.open(QIODevice::WriteOnly);
            QCOMPARE(a.writeTo(device, 1000), 1000);
            QVERIFY(document.data_ptr().isShared()); // referred to, not copied
            QCOMPARE(a.writeTo(device, 1 << 20), (1 << 20) - 1000);
            QVERIFY(document.data_ptr().isShared()); // b still waits with it
            b.clear();
            QVERIFY(!document.data_ptr().isShared()); // both let go once out (or cleared)
        }
        QCOMPARE(document.constData(), data);
    }
};

QTEST_GUILESS_MAIN(tst_ResponseOutput)
#include "tst_responseoutput.moc"
