#include "freespacelabel.h"

#include "downloadlistmodel.h"
#include "monitorsession.h"

#include <QFileInfo>
#include <QHostAddress>
#include <QPointer>

namespace Hermes {

FreeSpaceLabel::FreeSpaceLabel(MonitorSession *session, QWidget *parent)
    : QLabel(parent), m_session(session)
{
    setAccessibleName(tr("Free space on the server"));
    hide();
    m_poll.setInterval(60000);
    connect(&m_poll, &QTimer::timeout, this, &FreeSpaceLabel::refresh);
    connect(&session->stream(), &EventStreamClient::stateChanged, this, [this](EventStreamClient::State state) {
        if (state == EventStreamClient::State::Connected) {
            refresh();
            m_poll.start();
        } else {
            m_poll.stop();
        }
    });
}

void FreeSpaceLabel::refresh()
{
    if (m_asking) // a slow server: one question at a time
        return;
    m_asking = true;
    const QPointer<FreeSpaceLabel> self(this);
    m_session->api().listDownloads(0, 1, [self](Result<QJsonObject> answer) {
        if (!self)
            return;
        self->m_asking = false;
        if (!answer)
            return; // the indicator and the banner speak of failures; this keeps the last figure
        const QJsonValue free = answer->value(QStringLiteral("download_dir_free_bytes"));
        self->m_dir = answer->value(QStringLiteral("download_dir")).toString();
        self->m_free = free.isDouble() ? qint64(free.toDouble()) : -1;
        self->setVisible(self->m_free >= 0);
        if (self->m_free < 0)
            return;
        self->setText(tr("Free: %1").arg(DownloadListModel::formatBytes(double(self->m_free))));
        self->setToolTip(tr("Free space in the server's download directory %1").arg(self->m_dir));
    });
}

bool FreeSpaceLabel::isDirHere() const
{
    const QString host = m_session->api().baseUrl().host();
    const QHostAddress address(host);
    const bool local = host.compare(u"localhost", Qt::CaseInsensitive) == 0 || address.isLoopback();
    return local && !m_dir.isEmpty() && QFileInfo(m_dir).isDir();
}

} // namespace Hermes
