#include "adddialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QUrl>

namespace Hermes {

AddDialog::AddDialog(QWidget *parent)
    : QDialog(parent), m_urls(new QPlainTextEdit(this)), m_filename(new QLineEdit(this)),
      m_sha256(new QLineEdit(this)), m_priority(new QSpinBox(this)), m_message(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Add Downloads"));
    m_urls->setPlaceholderText(tr("One URL per line, e.g. https://example.org/file.iso"));
    m_urls->setAccessibleName(tr("URLs to download"));
    m_urls->setTabChangesFocus(true);
    m_filename->setPlaceholderText(tr("From the server's answer or the URL"));
    m_filename->setAccessibleName(tr("File name"));
    m_sha256->setPlaceholderText(tr("Optional: 64 hexadecimal digits"));
    m_sha256->setAccessibleName(tr("Expected SHA-256"));
    m_sha256->setMaxLength(64);
    m_priority->setRange(-1000, 1000);
    m_priority->setToolTip(tr("Higher runs first"));
    m_priority->setAccessibleName(tr("Priority"));
    m_message->setWordWrap(true);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Add"));
    auto *form = new QFormLayout(this);
    form->addRow(tr("&URLs:"), m_urls);
    form->addRow(tr("&File name:"), m_filename);
    form->addRow(tr("&SHA-256:"), m_sha256);
    form->addRow(tr("&Priority:"), m_priority);
    form->addRow(m_message);
    form->addRow(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_urls, &QPlainTextEdit::textChanged, this, &AddDialog::validate);
    connect(m_sha256, &QLineEdit::textChanged, this, &AddDialog::validate);
    resize(560, 320);
    validate();
}

QStringList AddDialog::urlsIn(const QString &text)
{
    QStringList out;
    static const QRegularExpression space(QStringLiteral("\\s+"));
    for (const QString &word : text.split(space, Qt::SkipEmptyParts)) {
        const QUrl url(word, QUrl::StrictMode);
        if (url.isValid() && (url.scheme() == u"http" || url.scheme() == u"https") && !url.host().isEmpty()
            && !out.contains(word))
            out.append(word);
    }
    return out;
}

void AddDialog::setUrls(const QStringList &urls)
{
    m_urls->setPlainText(urls.join(u'\n'));
}

QList<AddDialog::Request> AddDialog::requests() const
{
    QList<Request> out;
    QStringList urls;
    for (const QString &line : m_urls->toPlainText().split(u'\n')) {
        if (!line.trimmed().isEmpty())
            urls.append(line.trimmed());
    }
    // As validate() counts: blank lines are no URLs, so one URL keeps its name and hash.
    for (const QString &url : std::as_const(urls)) {
        Request r{url, {}, {}, m_priority->value()};
        if (urls.size() == 1) {
            r.filename = m_filename->text().trimmed();
            r.sha256 = m_sha256->text().trimmed().toLower();
        }
        out.append(r);
    }
    return out;
}

void AddDialog::validate()
{
    const QStringList lines = m_urls->toPlainText().split(u'\n', Qt::SkipEmptyParts);
    int count = 0;
    m_problem.clear();
    for (const QString &line : lines) {
        const QString text = line.trimmed();
        if (text.isEmpty())
            continue;
        ++count;
        const QUrl url(text, QUrl::StrictMode);
        if (m_problem.isEmpty() && (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty()))
            m_problem = tr("Not an http:// or https:// URL: %1").arg(text);
    }
    const bool single = count <= 1;
    m_filename->setEnabled(single);
    m_sha256->setEnabled(single);
    static const QRegularExpression hex(QRegularExpression::anchoredPattern(QStringLiteral("[0-9a-fA-F]{64}")));
    const QString sha = m_sha256->text().trimmed();
    if (m_problem.isEmpty() && single && !sha.isEmpty() && !hex.match(sha).hasMatch())
        m_problem = tr("The SHA-256 must be 64 hexadecimal digits.");
    if (m_problem.isEmpty() && count == 0)
        m_problem = tr("Enter at least one URL.");
    m_message->setText(m_problem.isEmpty() ? tr("%n download(s) will be added.", nullptr, count) : m_problem);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(m_problem.isEmpty());
}

} // namespace Hermes
