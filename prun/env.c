/* SPDX-License-Identifier: MIT */
/* env.c - the commands' environment after -i, -u and -E. */
#include "env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Does entry ("NAME=VALUE") set the variable name_len bytes long at name? */
static int sets(const char *entry, const char *name, size_t name_len)
{
    return strncmp(entry, name, name_len) == 0 && entry[name_len] == '=';
}

static size_t remove_var(char **env, size_t n, const char *name, size_t name_len)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!sets(env[i], name, name_len))
            env[kept++] = env[i];
    return kept;
}

int env_build(char **base, const struct cli *cli, char ***out)
{
    *out = NULL;
    if (!cli->ignore_environment && cli->n_env_changes == 0)
        return 0;
    size_t n = 0;
    if (!cli->ignore_environment)
        while (base && base[n])
            n++;
    char **env = malloc((n + cli->n_env_changes + 1) * sizeof *env);
    if (!env)
        return -ENOMEM;
    if (n)
        memcpy(env, base, n * sizeof *env);
    for (size_t i = 0; i < cli->n_env_changes; i++) {
        const struct env_change *c = &cli->env_changes[i];
        size_t name_len = c->unset ? strlen(c->arg) : (size_t)(strchr(c->arg, '=') - c->arg);
        n = remove_var(env, n, c->arg, name_len);
        if (!c->unset)
            env[n++] = (char *)c->arg;
    }
    env[n] = NULL;
    *out = env;
    return 0;
}
