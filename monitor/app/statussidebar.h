#pragma once

#include "protocol/downloadstatus.h"

#include <QListWidget>

namespace Hermes {

class DownloadListModel;

/**
 * The status filter on the left, as in qBittorrent: All, Downloading, Queued, Paused,
 * Completed, Failed, each with its live count; choosing one filters the table.
 */
class StatusSidebar final : public QListWidget
{
    Q_OBJECT
public:
    explicit StatusSidebar(DownloadListModel *model, QWidget *parent = nullptr);

    /// The statuses of the chosen entry (empty: all).
    QList<DownloadStatus> currentStatuses() const;
    /// The text of the entry for `statuses` (for tests), e.g. "Downloading (3)".
    QString entryText(int row) const { return item(row)->text(); }
    void selectStatuses(const QList<DownloadStatus> &statuses);

Q_SIGNALS:
    void statusesChosen(const QList<Hermes::DownloadStatus> &statuses);

private:
    void refreshCounts();

    DownloadListModel *m_model;
};

} // namespace Hermes
