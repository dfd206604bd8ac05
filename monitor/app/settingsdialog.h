#pragma once

#include "monitorsettings.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace Hermes {

/// Server URL, API key, reconnecting, notifications and the tray.
class SettingsDialog final : public QDialog
{
    Q_OBJECT
public:
    explicit SettingsDialog(const MonitorSettings &settings, QWidget *parent = nullptr);
    MonitorSettings settings() const;
    /// Says above the fields why the dialog opened by itself (a rejected API key) and puts
    /// the cursor in the API key field.
    void showProblem(const QString &text);
    QString problem() const;

private:
    MonitorSettings m_settings;
    QLineEdit *m_server;
    QLineEdit *m_key;
    QSpinBox *m_base;
    QSpinBox *m_cap;
    QSpinBox *m_attempts;
    QCheckBox *m_completed;
    QCheckBox *m_failed;
    QCheckBox *m_system;
    QSpinBox *m_perMinute;
    QCheckBox *m_tray;
    QLabel *m_problem;
};

} // namespace Hermes
