/*
 * cli_options.c — the one -o option parser shared by `unifs mount` and
 * mount.unifs.
 *
 * An option list is split on commas; each word is one of:
 *   - a mount(8)/fstab generic option that has no meaning for unifs
 *     (defaults, _netdev, noauto, user, x-systemd.*, ...): ignored;
 *   - "ro" / "rw" / "allow_other": flags of the whole namespace;
 *   - "key=value" or a bare "key": a [global] key (ufs_config_set_global
 *     validates it and rejects unknown keys).
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* mount(8) options accepted and ignored (exact words). */
static const char *const options_ignored[] = {
    "defaults", "_netdev",    "auto",	  "noauto",	"user",	       "nouser",     "users",
    "owner",	"group",      "nofail",	  "exec",	"noexec",      "suid",	     "nosuid",
    "dev",	"nodev",      "relatime", "norelatime", "strictatime", "noatime",    "atime",
    "diratime", "nodiratime", "async",	  "sync",	"lazytime",    "nolazytime", NULL,
};

/* mount(8) option prefixes accepted and ignored (x-systemd.*, comment=...). */
static const char *const options_ignored_prefix[] = {"x-", "comment=", NULL};

static int options_is_ignored(const char *word)
{
	for (size_t i = 0; options_ignored[i]; i++)
		if (strcmp(word, options_ignored[i]) == 0)
			return 1;
	for (size_t i = 0; options_ignored_prefix[i]; i++) {
		const char *p = options_ignored_prefix[i];
		if (strncmp(word, p, strlen(p)) == 0)
			return 1;
	}
	return 0;
}

/* Apply one word of an option list. */
static int options_apply_word(struct ufs_config *cfg, char *word, char *err, size_t errlen)
{
	char *eq;

	if (*word == '\0' || options_is_ignored(word))
		return 0;
	eq = strchr(word, '=');
	if (!eq)
		return ufs_config_set_global(cfg, word, NULL, err, errlen);
	*eq = '\0';
	if (eq == word) {
		snprintf(err, errlen, "=%s: option has no name", eq + 1);
		return -EINVAL;
	}
	return ufs_config_set_global(cfg, word, eq + 1, err, errlen);
}

int cli_options_apply(struct ufs_config *cfg, const char *optlist, int sloppy, const char *cmd,
		      char *err, size_t errlen)
{
	char *copy = strdup(optlist);
	char *save = NULL;
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (char *w = strtok_r(copy, ",", &save); w && rc == 0; w = strtok_r(NULL, ",", &save)) {
		rc = options_apply_word(cfg, w, err, errlen);
		if (rc == -EINVAL && sloppy) {
			cli_error(cmd, "ignoring option: %s", err);
			rc = 0;
		}
	}
	free(copy);
	return rc;
}
