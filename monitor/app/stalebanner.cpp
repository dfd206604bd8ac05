#include "stalebanner.h"

#include "icons.h"
#include "monitorsession.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>

namespace Hermes {

StaleBanner::StaleBanner(MonitorSession *session, QWidget *parent)
    : QWidget(parent), m_session(session), m_text(new QLabel(this))
{
    auto *layout = new QHBoxLayout(this);
    auto *warn = new QLabel(this);
    warn->setPixmap(Icons::named("dialog-warning").pixmap(20, 20));
    auto *retry = new QPushButton(Icons::named("view-refresh"), tr("Retry now"), this);
    layout->addWidget(warn);
    layout->addWidget(m_text, 1);
    layout->addWidget(retry);
    m_text->setWordWrap(true);
    setAutoFillBackground(true);
    QPalette colours = palette();
    colours.setColor(QPalette::Window, QColor(0xff, 0xf8, 0xc5));
    colours.setColor(QPalette::WindowText, QColor(0x3b, 0x2e, 0x00));
    setPalette(colours);
    setAccessibleName(tr("The list may be out of date"));
    hide();
    connect(retry, &QPushButton::clicked, session, &MonitorSession::reload);
    m_countdown.setInterval(1000);
    connect(&m_countdown, &QTimer::timeout, this, &StaleBanner::refresh);
    connect(session, &MonitorSession::staleChanged, this, &StaleBanner::refresh);
}

QString StaleBanner::text() const
{
    return m_text->text();
}

void StaleBanner::refresh()
{
    if (!m_session->isStale()) {
        hide();
        m_countdown.stop();
        return;
    }
    const qint64 ms = m_session->msUntilSnapshotRetry();
    m_text->setText(tr("The list may be out of date: loading it failed (%1). %2")
                        .arg(m_session->staleReason(),
                             ms >= 0 ? tr("Trying again in %1 s.").arg(QLocale().toString((ms + 999) / 1000))
                                     : tr("Trying again now.")));
    show();
    if (!m_countdown.isActive())
        m_countdown.start();
}

} // namespace Hermes
