/*
 * A resolver the test controls, preloaded into hermes-server (LD_PRELOAD): getaddrinfo() for
 * a name under `.hermes.test` fails with EAI_AGAIN ("temporary failure in name resolution")
 * while the file named by HERMES_TEST_RESOLVER_FAIL exists, and otherwise resolves to
 * 127.0.0.1, where the test's origin listens. Every other name goes to the real resolver.
 *
 * Why a preload rather than /etc/hosts or a DNS server: the tests must not change the
 * machine, and a name that fails *temporarily* (what a flaky resolver does) is what a
 * download must survive; /etc/hosts can only make a name unknown for good. Qt resolves host
 * names with getaddrinfo() (QHostInfoAgent on Unix), so this is the call to interpose.
 *
 * Plain C without the sanitizers (see tests/shared/CMakeLists.txt): it is loaded before the
 * server's own libraries and must not depend on them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

static const char Suffix[] = ".hermes.test";

/* Whether `name` is under .hermes.test (case-insensitive, a trailing dot allowed). */
static int isTestName(const char *name)
{
    size_t n = strlen(name);
    const size_t s = sizeof(Suffix) - 1;
    if (n > 0 && name[n - 1] == '.')
        --n;
    return n > s && strncasecmp(name + n - s, Suffix, s) == 0;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    /* The next definition in the lookup order: libc's, or a sanitizer's interceptor of it. */
    static getaddrinfo_fn real;
    if (!real)
        real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    if (!real)
        return EAI_SYSTEM;
    if (!node || !isTestName(node))
        return real(node, service, hints, res);
    const char *flag = getenv("HERMES_TEST_RESOLVER_FAIL");
    if (flag && *flag && access(flag, F_OK) == 0)
        return EAI_AGAIN;
    struct addrinfo h;
    memset(&h, 0, sizeof h);
    if (hints)
        h = *hints;
    if (h.ai_family == AF_INET6)
        return EAI_NONAME; /* the origin has no IPv6 address */
    h.ai_family = AF_INET;
    h.ai_flags |= AI_NUMERICHOST;
    h.ai_flags &= ~AI_CANONNAME;
    return real("127.0.0.1", service, &h, res);
}
