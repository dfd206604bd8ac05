#include "connectionindicator.h"

#include "icons.h"

#include <QDateTime>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QToolButton>
#include <QToolTip>
#include <QHelpEvent>

namespace Hermes {

ConnectionIndicator::ConnectionIndicator(EventStreamClient *client, QWidget *parent)
    : QWidget(parent), m_client(client), m_icon(new QLabel(this)), m_label(new QLabel(this)),
      m_reconnect(new QToolButton(this))
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->addWidget(m_icon);
    layout->addWidget(m_label);
    layout->addWidget(m_reconnect);
    m_reconnect->setText(tr("Reconnect"));
    m_reconnect->setIcon(Icons::named("view-refresh"));
    m_reconnect->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_reconnect->setAutoRaise(true);
    m_reconnect->setToolTip(tr("Open a new connection now (and reload the list if needed)"));
    setAccessibleName(tr("Connection to the server"));
    connect(m_reconnect, &QToolButton::clicked, this, &ConnectionIndicator::reconnectRequested);
    connect(client, &EventStreamClient::stateChanged, this, &ConnectionIndicator::refresh);
    connect(client, &EventStreamClient::errorOccurred, this, &ConnectionIndicator::refresh);
    m_countdown.setInterval(1000);
    connect(&m_countdown, &QTimer::timeout, this, &ConnectionIndicator::refresh);
    refresh();
}

QString ConnectionIndicator::text() const
{
    return m_label->text();
}

bool ConnectionIndicator::reconnectVisible() const
{
    return !m_reconnect->isHidden();
}

void ConnectionIndicator::refresh()
{
    using State = EventStreamClient::State;
    const State state = m_client->state();
    QString text;
    switch (state) {
    case State::Connected:
        m_look = Look::Connected;
        text = tr("Connected");
        break;
    case State::Connecting:
        m_look = Look::Reconnecting;
        text = tr("Connecting…");
        break;
    case State::Reconnecting: {
        m_look = Look::Reconnecting;
        const qint64 ms = m_client->msUntilNextAttempt();
        const QString when = ms < 0 ? tr("trying now") : tr("next try in %1 s").arg(QLocale().toString((ms + 999) / 1000));
        if (m_client->lastStatus() == 503 || m_client->lastStatus() == 429)
            text = tr("Server busy (HTTP %1) — %2").arg(m_client->lastStatus()).arg(when);
        else if (m_client->isRetryingSlowly())
            text = tr("Offline — retrying every %1 s, %2").arg(QLocale().toString(m_client->backoff().capMs() / 1000), when);
        else if (m_client->maxAttempts() > 0)
            text = tr("Reconnecting… (attempt %1 of %2), %3").arg(m_client->attempt()).arg(m_client->maxAttempts()).arg(when);
        else
            text = tr("Reconnecting… (attempt %1), %2").arg(m_client->attempt()).arg(when);
        break;
    }
    case State::Disconnected:
        m_look = Look::Disconnected;
        switch (m_client->disconnectReason()) {
        case EventStreamClient::DisconnectReason::AuthenticationFailed:
            text = tr("Disconnected: the API key was rejected");
            break;
        case EventStreamClient::DisconnectReason::GaveUp:
            text = tr("Disconnected: gave up after %1 attempts").arg(m_client->attempt());
            break;
        case EventStreamClient::DisconnectReason::StreamEnded:
            text = tr("Disconnected: the server ended the stream");
            break;
        case EventStreamClient::DisconnectReason::Failed:
            text = tr("Disconnected: the connection failed");
            break;
        case EventStreamClient::DisconnectReason::Closed:
            text = tr("Disconnected: closed");
            break;
        default:
            text = tr("Disconnected");
        }
        break;
    }
    const char *icon = m_look == Look::Connected ? "state-connected"
                     : m_look == Look::Reconnecting ? "state-reconnecting" : "state-disconnected";
    m_color = m_look == Look::Connected ? QColor(0x2e, 0xa0, 0x43)
            : m_look == Look::Reconnecting ? QColor(0xd2, 0x99, 0x22) : QColor(0xcf, 0x22, 0x2e);
    m_icon->setPixmap(QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1StringView(icon))).pixmap(16, 16));
    if (m_label->text() != text) {
        m_label->setText(text);
        setAccessibleDescription(text);
    }
    m_reconnect->setVisible(state != State::Connected); // nothing to reconnect while connected
    if (state == State::Reconnecting && m_client->msUntilNextAttempt() >= 0) {
        if (!m_countdown.isActive())
            m_countdown.start();
    } else {
        m_countdown.stop();
    }
}

QString ConnectionIndicator::toolTipText() const
{
    QString tip = tr("Server: %1").arg(m_client->url().toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery));
    const qint64 last = m_lastEvent ? m_lastEvent() : 0;
    tip += u'\n' + tr("Last event: %1").arg(last > 0 ? QLocale().toString(QDateTime::fromMSecsSinceEpoch(last), QLocale::LongFormat)
                                                     : tr("none yet"));
    if (m_client->serverHeartbeatIntervalMs() > 0)
        tip += u'\n' + tr("Heartbeat: every %1 s").arg(QLocale().toString(m_client->serverHeartbeatIntervalMs() / 1000.0));
    if (!m_client->lastError().isEmpty())
        tip += u'\n' + tr("Last error: %1").arg(m_client->lastError());
    return tip;
}

bool ConnectionIndicator::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        QToolTip::showText(static_cast<QHelpEvent *>(event)->globalPos(), toolTipText(), this);
        return true;
    }
    return QWidget::event(event);
}

} // namespace Hermes
