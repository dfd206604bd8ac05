#include "settingsdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>

namespace Hermes {

SettingsDialog::SettingsDialog(const MonitorSettings &settings, QWidget *parent)
    : QDialog(parent), m_settings(settings), m_server(new QLineEdit(settings.server.toString(), this)),
      m_key(new QLineEdit(QString::fromUtf8(settings.apiKey), this)), m_base(new QSpinBox(this)),
      m_cap(new QSpinBox(this)), m_attempts(new QSpinBox(this))
{
    setWindowTitle(tr("Settings"));
    m_key->setEchoMode(QLineEdit::Password);
    m_base->setRange(100, 60000);
    m_base->setSuffix(tr(" ms"));
    m_base->setValue(settings.backoffBaseMs);
    m_cap->setRange(1000, 600000);
    m_cap->setSuffix(tr(" ms"));
    m_cap->setValue(settings.backoffCapMs);
    m_attempts->setRange(1, 1000);
    m_attempts->setValue(settings.maxAttempts);
    auto *form = new QFormLayout(this);
    form->addRow(tr("Server URL"), m_server);
    form->addRow(tr("API key"), m_key);
    form->addRow(tr("First reconnect delay"), m_base);
    form->addRow(tr("Longest reconnect delay"), m_cap);
    form->addRow(tr("Reconnect attempts"), m_attempts);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
}

MonitorSettings SettingsDialog::settings() const
{
    MonitorSettings s = m_settings;
    s.server = QUrl(m_server->text().trimmed());
    s.apiKey = m_key->text().trimmed().toUtf8();
    s.backoffBaseMs = m_base->value();
    s.backoffCapMs = m_cap->value();
    s.maxAttempts = m_attempts->value();
    return s;
}

} // namespace Hermes
