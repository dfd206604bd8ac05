#pragma once

#include "modeltypes.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSet>

#include <functional>
#include <memory>

namespace Hermes::Test {
class SseClient;
}

namespace DlModel {

/**
 * One subscription to the downloads and queue channels that outlives the nodes: when its node
 * dies, or stops answering (no heartbeat for 3 s: a SIGSTOPped node keeps the socket open),
 * it reconnects to another live node with Last-Event-ID, as EventSource does. With Redis every
 * node delivers every node's events, so one stream sees every status change of the deployment.
 *
 * It records, per download, the `status_changed` queue updates (the transitions) and the
 * statuses and error messages of the `download_progress` events (every failure's reason, also
 * of a failure that a later retry hid from the final row).
 */
class EventRecorder final : public QObject
{
    Q_OBJECT
public:
    /// `ports`: the nodes to connect to, those that may answer now first.
    EventRecorder(std::function<QList<quint16>()> ports, QByteArray authorization);
    ~EventRecorder() override;

    void start();
    /// Reconnects when the stream ended or went quiet; the run calls it every step.
    void poll();

    QList<SeenChange> transitions(const QString &id) const { return m_transitions.value(id); }
    /// (status, error_message) of each download_progress event of `id` that said failed.
    QList<QPair<QString, QString>> failures(const QString &id) const { return m_failures.value(id); }
    /// When the stream first said `id` completed (test clock), or -1.
    qint64 completedAt(const QString &id) const { return m_completedAt.value(id, -1); }
    QStringList problems() const { return m_problems; }
    int reconnects() const { return m_reconnects; }
    qint64 events() const { return m_events; }

private:
    void connectTo(quint16 port);
    void onEvent(const QString &data, const QString &id);

    std::function<QList<quint16>()> m_ports;
    QByteArray m_auth;
    std::unique_ptr<Hermes::Test::SseClient> m_client;
    QElapsedTimer m_quiet;   ///< since the last byte of anything (heartbeats included)
    quint16 m_port = 0;
    QString m_lastId;
    int m_next = 0;
    int m_reconnects = -1;
    qint64 m_events = 0;
    QSet<QString> m_seenIds;
    QHash<QString, QList<SeenChange>> m_transitions;
    QHash<QString, QList<QPair<QString, QString>>> m_failures;
    QHash<QString, qint64> m_completedAt;
    QStringList m_problems;
};

} // namespace DlModel
