#include "settingsdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>

namespace Hermes {

SettingsDialog::SettingsDialog(const MonitorSettings &settings, QWidget *parent)
    : QDialog(parent), m_settings(settings), m_server(new QLineEdit(settings.server.toString(), this)),
      m_key(new QLineEdit(QString::fromUtf8(settings.apiKey), this)), m_base(new QSpinBox(this)),
      m_cap(new QSpinBox(this)), m_attempts(new QSpinBox(this)), m_completed(new QCheckBox(tr("A download completed"), this)),
      m_failed(new QCheckBox(tr("A download failed"), this)), m_system(new QCheckBox(tr("Server notices (disk space, …)"), this)),
      m_perMinute(new QSpinBox(this)), m_tray(new QCheckBox(tr("Minimising or closing the window keeps the monitor in the tray"), this)),
      m_problem(new QLabel(this))
{
    setWindowTitle(tr("Preferences"));
    m_key->setEchoMode(QLineEdit::Password);
    m_base->setRange(100, 60000);
    m_base->setSuffix(tr(" ms"));
    m_base->setValue(settings.backoffBaseMs);
    m_cap->setRange(1, 3600);
    m_cap->setSuffix(tr(" s"));
    m_cap->setValue(qMax(1, settings.backoffCapMs / 1000));
    m_attempts->setRange(0, 100000);
    m_attempts->setSpecialValueText(tr("never"));
    m_attempts->setValue(settings.maxAttempts);
    m_completed->setChecked(settings.notifyCompleted);
    m_failed->setChecked(settings.notifyFailed);
    m_system->setChecked(settings.notifySystem);
    m_perMinute->setRange(0, 120);
    m_perMinute->setSpecialValueText(tr("none"));
    m_perMinute->setValue(settings.notificationsPerMinute);
    m_tray->setChecked(settings.minimizeToTray);

    auto *layout = new QVBoxLayout(this);
    m_problem->setWordWrap(true);
    m_problem->setTextFormat(Qt::PlainText);
    QFont bold = m_problem->font();
    bold.setBold(true);
    m_problem->setFont(bold);
    m_problem->hide();
    layout->addWidget(m_problem);
    auto *connection = new QGroupBox(tr("Server"), this);
    auto *form = new QFormLayout(connection);
    form->addRow(tr("Server &URL:"), m_server);
    form->addRow(tr("API &key:"), m_key);
    form->addRow(tr("&First reconnect delay:"), m_base);
    form->addRow(tr("&Longest reconnect delay:"), m_cap);
    form->addRow(tr("&Give up after (attempts):"), m_attempts);
    layout->addWidget(connection);
    auto *notify = new QGroupBox(tr("Desktop notifications"), this);
    auto *nform = new QFormLayout(notify);
    nform->addRow(m_completed);
    nform->addRow(m_failed);
    nform->addRow(m_system);
    nform->addRow(tr("At most, per &minute:"), m_perMinute);
    layout->addWidget(notify);
    layout->addWidget(m_tray);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

MonitorSettings SettingsDialog::settings() const
{
    MonitorSettings s = m_settings;
    s.server = QUrl(m_server->text().trimmed());
    s.apiKey = m_key->text().trimmed().toUtf8();
    s.backoffBaseMs = m_base->value();
    s.backoffCapMs = m_cap->value() * 1000;
    s.maxAttempts = m_attempts->value();
    s.notifyCompleted = m_completed->isChecked();
    s.notifyFailed = m_failed->isChecked();
    s.notifySystem = m_system->isChecked();
    s.notificationsPerMinute = m_perMinute->value();
    s.minimizeToTray = m_tray->isChecked();
    return s;
}

void SettingsDialog::showProblem(const QString &text)
{
    m_problem->setText(text);
    m_problem->setVisible(!text.isEmpty());
    m_key->setFocus();
    m_key->selectAll();
}

QString SettingsDialog::problem() const
{
    return m_problem->isVisible() ? m_problem->text() : QString();
}

} // namespace Hermes
