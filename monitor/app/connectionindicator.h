#pragma once

#include "eventstreamclient.h"

#include <QWidget>

class QLabel;
class QPushButton;

namespace Hermes {

/// The status-bar connection indicator: green "Connected", amber "Reconnecting… (attempt N of
/// M)", red "Disconnected" with a Reconnect button; the tooltip shows the server URL, the
/// time of the last event and the last error.
class ConnectionIndicator final : public QWidget
{
    Q_OBJECT
public:
    explicit ConnectionIndicator(EventStreamClient *client, QWidget *parent = nullptr);

    QString text() const;
    QColor color() const { return m_color; }
    bool reconnectVisible() const;
    void setLastEventTime(const QDateTime &time);

Q_SIGNALS:
    void reconnectRequested();

private:
    void update(EventStreamClient::State state);
    void refreshToolTip();

    EventStreamClient *m_client;
    QLabel *m_dot;
    QLabel *m_label;
    QPushButton *m_reconnect;
    QColor m_color;
    QDateTime m_lastEvent;
};

} // namespace Hermes
