#pragma once

#include "apiclient.h"
#include "downloadlistmodel.h"
#include "eventstreamclient.h"

#include <QDateTime>
#include <QList>
#include <QObject>

namespace Hermes {

/**
 * Keeps a DownloadListModel equal to the server: loads the REST snapshot on every (re)connect
 * and on `resync_required`, applies stream events on top, and holds back the events that arrive
 * while a snapshot is loading so none is lost and none undoes the snapshot.
 */
class MonitorSession final : public QObject
{
    Q_OBJECT
public:
    explicit MonitorSession(QObject *parent = nullptr);

    /// The server root, e.g. http://127.0.0.1:8000.
    void setServer(const QUrl &base);
    void setApiKey(const QByteArray &key);
    EventStreamClient &stream() { return m_stream; }
    ApiClient &api() { return m_api; }
    DownloadListModel &model() { return m_model; }

    void start();
    void stop();
    /// Loads the snapshot again.
    void reload();
    bool isLoading() const { return m_loading; }
    QDateTime lastEventTime() const { return m_lastEvent; }
    QJsonObject queueSummary() const { return m_summary; }
    int snapshotsLoaded() const { return m_snapshots; }

Q_SIGNALS:
    void notificationReceived(const QString &type, const QString &message);
    void downloadFinished(const QString &name, bool succeeded);
    void summaryChanged(const QJsonObject &summary);
    void snapshotLoaded();
    void errorOccurred(const QString &message);

private:
    void onEvent(const SseParser::Event &event);
    void apply(const QString &type, const QJsonObject &data, const QString &timestamp);
    void refreshSummary();

    EventStreamClient m_stream;
    ApiClient m_api;
    DownloadListModel m_model;
    bool m_loading = false;
    int m_snapshots = 0;
    struct Held
    {
        QString type;
        QJsonObject data;
        QString timestamp;
    };
    QList<Held> m_held;
    QDateTime m_lastEvent;
    QJsonObject m_summary;
};

} // namespace Hermes
