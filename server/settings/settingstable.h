#pragma once

#include "result.h"
#include "settings/settingentry.h"
#include "threadaffinity.h"

#include <QList>
#include <QStringView>

namespace Hermes {

class Config;
struct ServerSettings;

/**
 * Every setting of hermes-server, each defined once as a SettingEntry: its variable, flag,
 * type, default, unit, description, whether SIGHUP reloads it, and the member of
 * ServerSettings it goes to. `--help`, the configuration reference (docs/configuration.md, the
 * example env files, the man page), ServerSettings::fromConfig and SettingsReload all read
 * this one table.
 *
 * Any thread: the table is built once (a function-local static) and never changes; write()
 * touches only the settings it is given.
 */
class SettingsTable final
{
public:
    /// In the order --help and the reference list them. Built once (the data dir's default
    /// reads the environment then).
    HERMES_ANY_THREAD static const QList<SettingEntry> &entries();
    /// The entry of `env`, or null (e.g. for a `<ENV>_FILE` companion, which Config adds).
    HERMES_ANY_THREAD static const SettingEntry *find(QStringView env);
    /// Writes every entry's value from `config` into `settings`, in table order; stops at the
    /// first that fails.
    HERMES_ANY_THREAD static Result<void> write(const Config &config, ServerSettings &settings);
};

} // namespace Hermes
