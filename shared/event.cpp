#include "event.h"

#include "json.h"
#include "protocol/vocabulary.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace Hermes {

QByteArray Event::envelopeJson() const
{
    // Built by hand so the key order is the Python envelope's (type, data, timestamp);
    // QJsonObject would sort the keys.
    QByteArray out;
    out.reserve(64 + type.size() + timestamp.size());
    out += "{\"type\":";
    out += Json::quote(type);
    out += ",\"data\":";
    out += dataJson();
    out += ",\"timestamp\":";
    out += Json::quote(timestamp);
    out += '}';
    return out;
}

QByteArray Event::dataJson() const
{
    return QJsonDocument(data).toJson(QJsonDocument::Compact);
}

QString Event::downloadId() const
{
    const QJsonValue value = data.value(QLatin1StringView("download_id"));
    return value.isString() ? value.toString() : QString();
}

Result<Event> Event::fromEnvelope(Channel channel, const QByteArray &json)
{
    const auto invalid = [](QString message) { return Error::invalid("invalid_envelope", std::move(message)); };
    Event out;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return invalid(QStringLiteral("invalid JSON: %1 at offset %2")
                           .arg(parseError.errorString())
                           .arg(parseError.offset));
    }
    if (!doc.isObject()) {
        return invalid(QStringLiteral("the envelope is not a JSON object"));
    }
    const QJsonObject root = doc.object();
    if (!root.contains(QLatin1StringView("data"))) {
        // Not an envelope but a bare JSON object (a publisher that sends just its payload):
        // it travels whole as the data of an event, typed by its own "type" when it has one.
        const QJsonValue ownType = root.value(QLatin1StringView("type"));
        out.id = EventId();
        out.channel = channel;
        out.type = ownType.isString() && !ownType.toString().isEmpty() ? ownType.toString()
                                                                        : QString(wireName(EventType::Message));
        out.data = root;
        out.timestamp = currentTimestamp();
        return out;
    }
    const QJsonValue type = root.value(QLatin1StringView("type"));
    if (!type.isString() || type.toString().isEmpty()) {
        return invalid(QStringLiteral("\"type\" must be a non-empty string"));
    }
    const QJsonValue data = root.value(QLatin1StringView("data"));
    if (!data.isObject()) {
        return invalid(QStringLiteral("\"data\" must be a JSON object"));
    }
    const QJsonValue timestamp = root.value(QLatin1StringView("timestamp"));
    if (!timestamp.isUndefined() && !timestamp.isString()) {
        return invalid(QStringLiteral("\"timestamp\" must be a string"));
    }
    // Envelopes relayed between Hermes nodes carry their id; the Python Hermes' do not.
    const QJsonValue id = root.value(QLatin1StringView("id"));
    out.id = EventId();
    if (id.isString()) {
        if (const auto parsed = EventId::parse(id.toString().toLatin1()))
            out.id = *parsed;
    }
    out.channel = channel;
    out.type = type.toString();
    out.data = data.toObject();
    out.timestamp = timestamp.isString() ? timestamp.toString() : currentTimestamp();
    return out;
}

QString Event::currentTimestamp()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

} // namespace Hermes
