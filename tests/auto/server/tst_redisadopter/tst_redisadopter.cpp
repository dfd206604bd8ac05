// RedisAdopter: which messages on a public channel are adopted (an outside publisher's) and
// which are a node's own relayed copies; the Adopt call of a message — the same adoption key
// on every node, the normalised envelope, the window; a message that is no envelope refused
// with the words the log shows. (That a second node's run adds nothing is tst_rediskeyspace's,
// on a real redis-server; every node delivering one id is tst_redisbroker's.)

#include "broker/redisadopter.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Hermes;

class tst_RedisAdopter : public QObject
{
    Q_OBJECT

private slots:
    void relayedCopies_data();
    void relayedCopies();
    void adoptionOfAnEnvelope();
    void aBarePayloadIsNormalised();
    void everyNodeAdoptsUnderOneKey();
    void notAnEnvelopeIsRefused();
};

void tst_RedisAdopter::relayedCopies_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<bool>("relayed");
    // What the Publish script writes on the public channel: the envelope with the id appended.
    QTest::newRow("a node's copy")
        << QByteArray(R"({"type":"t","data":{},"timestamp":"x","id":"k3x9q2-1700000000000-0"})") << true;
    QTest::newRow("an outside envelope")
        << QByteArray(R"({"type":"t","data":{},"timestamp":"x"})") << false;
    QTest::newRow("an id without epoch")
        << QByteArray(R"({"type":"t","data":{},"id":"1700000000000-0"})") << false;
    QTest::newRow("not an id") << QByteArray(R"({"type":"t","data":{},"id":"abc"})") << false;
    QTest::newRow("an empty id") << QByteArray(R"({"type":"t","data":{},"id":""})") << false;
    QTest::newRow("an id inside data")
        << QByteArray(R"({"type":"t","data":{"id":"k3x9q2-1-0"}})") << false;
    QTest::newRow("the member alone") << QByteArray(R"(,"id":"})") << false;
    QTest::newRow("empty") << QByteArray() << false;
}

void tst_RedisAdopter::relayedCopies()
{
    QFETCH(QByteArray, payload);
    QFETCH(bool, relayed);
    QCOMPARE(RedisAdopter::isRelayedCopy(payload), relayed);
}

void tst_RedisAdopter::adoptionOfAnEnvelope()
{
    const RedisKeyspace keys(QStringLiteral("hermes:"));
    const RedisAdopter adopter(keys, 500, 60);
    const QByteArray payload = R"({"type":"t","data":{"n":1},"timestamp":"2026-01-01T00:00:00.000Z"})";
    const Result<RedisScripts::Adopt> call = adopter.adoption(Channel::Queue, payload);
    QVERIFY(call);
    QCOMPARE(call->stream, keys.stream(Channel::Queue));
    QCOMPARE(call->sequence, keys.sequence());
    QCOMPARE(call->epoch, keys.epoch());
    QCOMPARE(call->trimmed, keys.trimmed(Channel::Queue));
    QCOMPARE(call->adoption, keys.adoption(Channel::Queue, payload));
    QVERIFY(call->streams == keys.streams());
    QCOMPARE(call->maxLength, 500);
    QCOMPARE(call->envelope, payload);
    QCOMPARE(call->channel, QByteArray("queue:updates"));
    QVERIFY(EventId::parseEpoch(call->candidateEpoch) != 0);
    QCOMPARE(call->eventsChannel, keys.eventsChannel());
    QCOMPARE(call->windowMs, qint64(60000));
}

void tst_RedisAdopter::aBarePayloadIsNormalised()
{
    const RedisAdopter adopter(RedisKeyspace(QStringLiteral("hermes:")), 500, 60);
    const QByteArray payload = R"({"progress":5})";
    const Result<RedisScripts::Adopt> call = adopter.adoption(Channel::Downloads, payload);
    QVERIFY(call);
    // The envelope every node delivers; the key is the payload's as received.
    const QJsonObject envelope = QJsonDocument::fromJson(call->envelope).object();
    QCOMPARE(envelope.value(QStringLiteral("type")).toString(), QStringLiteral("message"));
    QCOMPARE(envelope.value(QStringLiteral("data")).toObject(), (QJsonObject{{QStringLiteral("progress"), 5}}));
    QVERIFY(!envelope.value(QStringLiteral("timestamp")).toString().isEmpty());
    QCOMPARE(call->adoption, RedisKeyspace(QStringLiteral("hermes:")).adoption(Channel::Downloads, payload));
}

void tst_RedisAdopter::everyNodeAdoptsUnderOneKey()
{
    const RedisAdopter one(RedisKeyspace(QStringLiteral("hermes:")), 500, 60);
    const RedisAdopter other(RedisKeyspace(QStringLiteral("hermes:")), 500, 60);
    const QByteArray payload = R"({"type":"t","data":{}})";
    QCOMPARE(one.adoption(Channel::System, payload)->adoption,
             other.adoption(Channel::System, payload)->adoption);
    // Another channel, or other bytes, are another message.
    QVERIFY(one.adoption(Channel::System, payload)->adoption != other.adoption(Channel::Queue, payload)->adoption);
    QVERIFY(one.adoption(Channel::System, payload)->adoption
            != other.adoption(Channel::System, R"({"type":"t", "data":{}})")->adoption);
}

void tst_RedisAdopter::notAnEnvelopeIsRefused()
{
    const RedisAdopter adopter(RedisKeyspace(QStringLiteral("hermes:")), 500, 60);
    const QByteArray payload = R"({"type":7,"data":{}})";
    const Result<RedisScripts::Adopt> call = adopter.adoption(Channel::System, payload);
    QVERIFY(!call);
    QCOMPARE(call.error().kind, Error::Kind::Invalid);
    const Result<Event> parsed = Event::fromEnvelope(Channel::System, payload);
    QVERIFY(!parsed);
    QCOMPARE(call.error().message, parsed.error().message); // the envelope's own words, for the log
    QCOMPARE(adopter.adoption(Channel::System, "not json").error().message.left(13),
             QStringLiteral("invalid JSON:"));
}

QTEST_MAIN(tst_RedisAdopter)
#include "tst_redisadopter.moc"
