#pragma once

#include "eventstreamclient.h"

#include <QTimer>
#include <QWidget>

class QLabel;
class QToolButton;

namespace Hermes {

/**
 * The status-bar connection indicator, one of three looks, each with an icon and words (never
 * colour alone): *Connected*; *Reconnecting* (with the attempt, or after the fast attempts
 * "retrying every 30 s", "the server is busy (HTTP 503)", and a countdown to the next try);
 * *Disconnected* with the reason (key rejected, gave up, closed, stream ended). Reconnect is
 * offered whenever it is not Connected. The tooltip (server, last event, last error) is built
 * only when asked for: events can arrive thousands of times a second.
 */
class ConnectionIndicator final : public QWidget
{
    Q_OBJECT
public:
    enum class Look { Connected, Reconnecting, Disconnected };

    explicit ConnectionIndicator(EventStreamClient *client, QWidget *parent = nullptr);

    QString text() const;
    Look look() const { return m_look; }
    QColor color() const { return m_color; }
    bool reconnectVisible() const;
    /// Where the last event time comes from (milliseconds since the epoch, 0: none).
    void setLastEventSource(std::function<qint64()> source) { m_lastEvent = std::move(source); }
    QString toolTipText() const;

Q_SIGNALS:
    void reconnectRequested();

protected:
    bool event(QEvent *event) override;

private:
    void refresh();

    EventStreamClient *m_client;
    QLabel *m_icon;
    QLabel *m_label;
    QToolButton *m_reconnect;
    QTimer m_countdown;
    Look m_look = Look::Disconnected;
    QColor m_color;
    std::function<qint64()> m_lastEvent;
};

} // namespace Hermes
