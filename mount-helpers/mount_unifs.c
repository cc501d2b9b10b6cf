/*
 * mount_unifs.c — mount.unifs, the helper mount(8) runs for fstab lines of
 * type "unifs":
 *
 *   /etc/unifs/train.conf  /mnt/train  unifs  defaults,_netdev  0 0
 *
 * mount(8) calls "mount.unifs SOURCE DIR [-sfnv] [-o OPTS] [-t TYPE]".
 * -n (no mtab) and -t are accepted and ignored, -s skips options that are
 * not understood, -f (fake) checks everything but mounts nothing, -v says
 * what was mounted. The -o list is parsed by the same code as `unifs mount
 * -o` (cli_options.c), so mount(8)'s generic options are ignored there.
 * The daemon detaches once the mount is live, as with `unifs mount`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mount-helpers/cli_i.h"

#define MOUNT_UNIFS_MAX_OPTS 64

static void mount_unifs_usage(FILE *f)
{
	fputs("usage: mount.unifs SOURCE MOUNTPOINT [-s] [-f] [-n] [-v] [-o OPT[,OPT...]]\n"
	      "\n"
	      "Helper for mount(8): SOURCE is a unifs config file or one URL.\n"
	      "  -o OPTS  ro, rw, allow_other, any [global] key=value; mount(8)'s\n"
	      "           generic options (defaults, _netdev, noauto, ...) are ignored\n"
	      "  -s       skip options that are not understood\n"
	      "  -f       fake: check the config and mount point, mount nothing\n"
	      "  -n       accepted for mount(8); unifs keeps no mtab\n"
	      "  -v       verbose\n"
	      "\n",
	      f);
	ufs_backend_print_help(f);
	fputs("\nSee mount.unifs(8) and unifs.conf(5).\n", f);
}

int main(int argc, char **argv)
{
	struct cli_mount_req req = {.cmd = "mount.unifs"};
	const char *opts[MOUNT_UNIFS_MAX_OPTS];
	int c;

	if (cli_wants_help(argc, argv)) {
		mount_unifs_usage(stdout);
		return CLI_OK;
	}
	/* GNU getopt permutes: options may follow SOURCE and DIR, as mount(8) passes them. */
	while ((c = getopt(argc, argv, "sfnvo:t:N:")) != -1) {
		switch (c) {
		case 's':
			req.sloppy = 1;
			break;
		case 'f':
			req.fake = 1;
			break;
		case 'v':
			req.verbose = 1;
			break;
		case 'n':
		case 't':
			break;
		case 'o':
			if (req.n_opts == MOUNT_UNIFS_MAX_OPTS) {
				cli_error(req.cmd, "too many -o options");
				return CLI_USAGE;
			}
			opts[req.n_opts++] = optarg;
			break;
		case 'N':
			cli_error(req.cmd, "-N (mount namespaces) is not supported");
			return CLI_USAGE;
		default:
			mount_unifs_usage(stderr);
			return CLI_USAGE;
		}
	}
	req.opts = opts;
	return cli_mount_args_run(&req, argc, argv, optind, mount_unifs_usage);
}
