// The .env / config file parser (shared/config) with the server's real option table, and the
// settings built from it (ServerSettings::fromConfig). Properties: no crash; either a clear
// error naming a HERMES_ variable or a resolved value for every option.

#include "config.h"
#include "fuzzinput.h"
#include "settings/serversettings.h"

#include <QFile>

#include <cstdio>
#include <cstdlib>
#include <sys/mman.h>
#include <unistd.h>

using namespace Hermes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    // The file lives in memory: no disk traffic per execution.
    static const int fd = ::memfd_create("hermes-fuzz.env", 0);
    static const QString path = QStringLiteral("/proc/self/fd/%1").arg(fd);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(::ftruncate(fd, 0) == 0);
    FUZZ_CHECK(::pwrite(fd, data, size, 0) == ssize_t(size));

    Config config(ServerSettings::optionSpecs());
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_CONFIG_FILE"), path);
    env.insert(QStringLiteral("HERMES_DATA_DIR"), QStringLiteral("/nonexistent/hermes-fuzz"));
    if (const Result<void> resolved = config.resolve(nullptr, env); !resolved) {
        FUZZ_CHECK(!resolved.error().message.isEmpty());
        return 0;
    }
    for (const OptionSpec &spec : config.specs())
        (void)config.string(spec.env);
    if (const Result<ServerSettings> settings = ServerSettings::fromConfig(config); !settings)
        FUZZ_CHECK(settings.error().message.startsWith(u"HERMES_"));
    return 0;
}
