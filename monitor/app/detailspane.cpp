#include "detailspane.h"

#include "downloadlistmodel.h"
#include "icons.h"

#include <QClipboard>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace Hermes {

DetailsPane::DetailsPane(DownloadListModel *model, QWidget *parent)
    : QWidget(parent), m_model(model), m_empty(new QLabel(tr("Select a download to see its details."), this)),
      m_form(new QWidget(this)), m_copy(new QToolButton(this))
{
    setAccessibleName(tr("Download details"));
    auto *outer = new QVBoxLayout(this);
    outer->addWidget(m_empty);
    outer->addWidget(m_form);
    outer->addStretch();
    m_empty->setEnabled(false);
    auto *form = new QFormLayout(m_form);
    form->setContentsMargins(0, 0, 0, 0);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    const QList<QPair<QString, QString>> rows{
        {QStringLiteral("url"), tr("URL:")},         {QStringLiteral("name"), tr("File:")},
        {QStringLiteral("size"), tr("Size:")},       {QStringLiteral("downloaded"), tr("Downloaded:")},
        {QStringLiteral("status"), tr("Status:")},
        {QStringLiteral("error"), tr("Error:")},     {QStringLiteral("note"), tr("Note:")},
        {QStringLiteral("attempts"), tr("Attempts:")},
        {QStringLiteral("sha256"), tr("SHA-256:")},  {QStringLiteral("priority"), tr("Priority:")},
        {QStringLiteral("position"), tr("In queue:")}, {QStringLiteral("addedAt"), tr("Added:")},
        {QStringLiteral("completedAt"), tr("Completed on:")},
    };
    for (const auto &[key, label] : rows) {
        auto *value = new QLabel(m_form);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
        value->setWordWrap(key != u"sha256");
        value->setAccessibleName(label.chopped(1));
        m_fields.insert(key, value);
        if (key == u"url") {
            auto *line = new QHBoxLayout;
            line->addWidget(value, 1);
            m_copy->setIcon(Icons::named("edit-copy"));
            m_copy->setText(tr("Copy URL"));
            m_copy->setToolTip(tr("Copy the URL to the clipboard"));
            m_copy->setAccessibleName(tr("Copy URL"));
            line->addWidget(m_copy);
            form->addRow(label, line);
        } else {
            form->addRow(label, value);
        }
    }
    connect(m_copy, &QToolButton::clicked, this, [this] {
        if (const DownloadRow *r = m_model->row(m_id))
            QGuiApplication::clipboard()->setText(r->url);
    });
    connect(model, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex &tl, const QModelIndex &br) {
        const int row = m_model->rowOf(m_id);
        if (row >= tl.row() && row <= br.row())
            refresh();
    });
    connect(model, &QAbstractItemModel::rowsRemoved, this, &DetailsPane::refresh);
    refresh();
}

void DetailsPane::showDownload(const QString &id)
{
    m_id = id;
    refresh();
}

QString DetailsPane::fieldText(const QString &field) const
{
    const QLabel *l = m_fields.value(field);
    return l ? l->text() : QString();
}

int DetailsPane::fullHeight() const
{
    // Row by row, each at least a line of a value's text: a field still empty has no height.
    const auto *form = static_cast<QFormLayout *>(m_form->layout());
    const int line = QLabel(QStringLiteral("Xg"), m_form).sizeHint().height();
    int height = qMax(0, form->verticalSpacing()) * (form->rowCount() - 1);
    for (int row = 0; row < form->rowCount(); ++row) {
        const QLayoutItem *label = form->itemAt(row, QFormLayout::LabelRole);
        const QLayoutItem *field = form->itemAt(row, QFormLayout::FieldRole);
        height += std::max({line, label ? label->sizeHint().height() : 0, field ? field->sizeHint().height() : 0});
    }
    const QMargins m = layout()->contentsMargins();
    return m.top() + height + m.bottom();
}

void DetailsPane::refresh()
{
    const DownloadRow *r = m_model->row(m_id);
    m_empty->setVisible(!r);
    m_form->setVisible(r);
    m_copy->setEnabled(r);
    if (!r)
        return;
    const QLocale l;
    auto set = [this](const char *key, const QString &text) { m_fields.value(QString::fromLatin1(key))->setText(text); };
    set("url", r->url);
    set("name", r->name);
    // The same figures as the row's (its bar is the percentage): never a size beside bytes and
    // a bar that disagree.
    set("size", r->size < 0 ? tr("unknown") : DownloadListModel::formatBytes(double(r->size)));
    set("downloaded", r->is(DownloadStatus::Completed)
                          ? tr("all")
                          : tr("%1 (%2%)").arg(DownloadListModel::formatBytes(double(r->downloaded)),
                                               l.toString(r->percent, 'f', 1)));
    set("status", DownloadListModel::statusText(*r));
    set("error", r->error.isEmpty() ? tr("none") : r->error);
    set("note", r->note.isEmpty() ? tr("none") : r->note);
    set("attempts", r->phase.maxAttempts ? tr("%1 of at most %2").arg(l.toString(r->attemptsMade()), l.toString(*r->phase.maxAttempts))
                                         : l.toString(r->attemptsMade()));
    set("sha256", r->sha256.isEmpty() ? tr("not checked") : r->sha256);
    set("priority", l.toString(r->priority));
    set("position", r->position > 0 ? l.toString(r->position) : tr("finished"));
    set("addedAt", r->added.isValid() ? l.toString(r->added.toLocalTime(), QLocale::LongFormat) : QString());
    set("completedAt", r->completed.isValid() && r->is(DownloadStatus::Completed)
                           ? l.toString(r->completed.toLocalTime(), QLocale::LongFormat)
                           : r->isFinished() ? tr("never")
                                             : tr("not yet"));
}

} // namespace Hermes
