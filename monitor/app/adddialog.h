#pragma once

#include <QDialog>

#include <optional>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace Hermes {

/**
 * Adds one or several downloads: URLs one per line (pre-filled from a drop, a paste or the
 * clipboard), and for a single URL a file name and an expected SHA-256; a priority for all.
 * OK stays disabled until every line is an http(s) URL and the hash, if any, is 64 hex digits.
 */
class AddDialog final : public QDialog
{
    Q_OBJECT
public:
    struct Request
    {
        QString url;
        QString filename;
        QString sha256;
        int priority = 0;
    };

    explicit AddDialog(QWidget *parent = nullptr);

    void setUrls(const QStringList &urls);
    QList<Request> requests() const;
    QString problem() const { return m_problem; }

    /// The http(s) URLs in a piece of text (a paste, a drop, the clipboard).
    static QStringList urlsIn(const QString &text);

private:
    void validate();

    QPlainTextEdit *m_urls;
    QLineEdit *m_filename;
    QLineEdit *m_sha256;
    QSpinBox *m_priority;
    QLabel *m_message;
    QDialogButtonBox *m_buttons;
    QString m_problem;
};

} // namespace Hermes
