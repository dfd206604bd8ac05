#pragma once

#include <QWidget>

class QLabel;
class QToolButton;

namespace Hermes {

class DownloadListModel;

/// Everything about the selected download: URL (with Copy), file name, size, what has arrived,
/// status (the row's own text), error, the server's note, attempts, SHA-256, priority, place in
/// the queue and times. Follows the row as it changes, and never contradicts it.
class DetailsPane final : public QWidget
{
    Q_OBJECT
public:
    explicit DetailsPane(DownloadListModel *model, QWidget *parent = nullptr);
    /// Empty: nothing selected (or several).
    void showDownload(const QString &id);
    QString shownId() const { return m_id; }
    /// A field's text: url, name, size, downloaded, status, error, note, attempts, sha256,
    /// priority, position, addedAt, completedAt.
    QString fieldText(const QString &field) const;
    /// The height that shows every field at once, a line each.
    int fullHeight() const;

private:
    void refresh();

    DownloadListModel *m_model;
    QString m_id;
    QHash<QString, QLabel *> m_fields;
    QLabel *m_empty;
    QWidget *m_form;
    QToolButton *m_copy;
};

} // namespace Hermes
