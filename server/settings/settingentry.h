#pragma once

#include "config.h"
#include "result.h"

#include <functional>

namespace Hermes {

struct ServerSettings;

/**
 * One setting of hermes-server, defined once: how it is given and documented (the OptionSpec:
 * variable, flag, type, default, unit, description, whether SIGHUP reloads it) and where its
 * value goes — one member of a group of ServerSettings. The functions are generated from that
 * member (see SettingsTable), so that reading, reloading and checking a setting never name its
 * member again.
 */
struct SettingEntry
{
    OptionSpec spec;
    /// Writes the value a resolved Config holds for `spec.env` into its member: parsed where
    /// the setting has a syntax of its own (a host address, an octal umask, ...), converted to
    /// the member's unit, and checked against the settings written before it (the table is
    /// written in order). Fails with a message that names the variable.
    std::function<Result<void>(const Config &config, ServerSettings &settings)> write;
    /// Copies its member from `from` to `to` (how SIGHUP applies a reloadable setting).
    std::function<void(const ServerSettings &from, ServerSettings &to)> copy;
    /// Whether `a` and `b` hold the same value in its member.
    std::function<bool(const ServerSettings &a, const ServerSettings &b)> same;
    /// Its member's value as text, for messages.
    std::function<QString(const ServerSettings &settings)> show;
};

} // namespace Hermes
