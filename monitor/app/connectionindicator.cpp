#include "connectionindicator.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace Hermes {

ConnectionIndicator::ConnectionIndicator(EventStreamClient *client, QWidget *parent)
    : QWidget(parent), m_client(client), m_dot(new QLabel(this)), m_label(new QLabel(this)),
      m_reconnect(new QPushButton(tr("Reconnect"), this))
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->addWidget(m_dot);
    layout->addWidget(m_label);
    layout->addWidget(m_reconnect);
    m_dot->setFixedSize(12, 12);
    connect(m_reconnect, &QPushButton::clicked, this, &ConnectionIndicator::reconnectRequested);
    connect(client, &EventStreamClient::stateChanged, this, &ConnectionIndicator::update);
    connect(client, &EventStreamClient::errorOccurred, this, &ConnectionIndicator::refreshToolTip);
    update(client->state());
}

QString ConnectionIndicator::text() const
{
    return m_label->text();
}

bool ConnectionIndicator::reconnectVisible() const
{
    return !m_reconnect->isHidden();
}

void ConnectionIndicator::setLastEventTime(const QDateTime &time)
{
    m_lastEvent = time;
    refreshToolTip();
}

void ConnectionIndicator::update(EventStreamClient::State state)
{
    switch (state) {
    case EventStreamClient::State::Connected:
        m_color = QColor(0x2e, 0xa0, 0x43);
        m_label->setText(tr("Connected"));
        break;
    case EventStreamClient::State::Connecting:
        m_color = QColor(0xd2, 0x99, 0x22);
        m_label->setText(tr("Connecting…"));
        break;
    case EventStreamClient::State::Reconnecting:
        m_color = QColor(0xd2, 0x99, 0x22);
        m_label->setText(tr("Reconnecting… (attempt %1 of %2)").arg(m_client->attempt()).arg(m_client->maxAttempts()));
        break;
    case EventStreamClient::State::Disconnected:
        m_color = QColor(0xcf, 0x22, 0x2e);
        m_label->setText(tr("Disconnected"));
        break;
    }
    m_dot->setStyleSheet(QStringLiteral("background:%1;border-radius:6px;").arg(m_color.name()));
    m_reconnect->setVisible(state == EventStreamClient::State::Disconnected);
    refreshToolTip();
}

void ConnectionIndicator::refreshToolTip()
{
    QString tip = tr("Server: %1").arg(m_client->url().toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery));
    tip += u'\n' + tr("Last event: %1").arg(m_lastEvent.isValid() ? QLocale().toString(m_lastEvent, QLocale::LongFormat) : tr("none yet"));
    if (!m_client->lastError().isEmpty())
        tip += u'\n' + tr("Last error: %1").arg(m_client->lastError());
    setToolTip(tip);
}

} // namespace Hermes
