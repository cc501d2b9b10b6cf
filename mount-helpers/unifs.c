/*
 * unifs.c — the unifs command: global options and dispatch to one command
 * family per cli_*.c file. Exit status: 0 ok, 1 runtime failure, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "mount-helpers/cli_i.h"

#ifndef UFS_VERSION
#define UFS_VERSION "0.1.0"
#endif

struct unifs_cmd {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *synopsis;
};

static const struct unifs_cmd unifs_cmds[] = {
    {"mount", cli_mount_main, "mount [-f] [-o OPT[,OPT...]] SOURCE MOUNTPOINT"},
    {"umount", cli_umount_main, "umount MOUNTPOINT"},
    {"ls", cli_ls_main, "ls [-1] TARGET"},
    {"stat", cli_stat_main, "stat TARGET"},
    {"cat", cli_cat_main, "cat TARGET"},
    {"stats", cli_stats_main, "stats [--json] MOUNTPOINT"},
    {"ctl", cli_ctl_main, "ctl MOUNTPOINT log=LEVEL"},
    {"doctor", cli_doctor_main, "doctor [--json] CONFIG"},
    {"cp", cli_cp_main, "cp [-r] [OPTIONS] SRC... DST"},
    {"sync", cli_sync_main, "sync [OPTIONS] [--delete] SRC DST"},
    {"check", cli_check_main, "check [OPTIONS] SRC DST"},
};

#define UNIFS_N_CMDS (sizeof(unifs_cmds) / sizeof(unifs_cmds[0]))

static void unifs_usage(FILE *f)
{
	fputs("usage: unifs COMMAND [ARGS...]\n\ncommands:\n", f);
	for (size_t i = 0; i < UNIFS_N_CMDS; i++)
		fprintf(f, "  unifs %s\n", unifs_cmds[i].synopsis);
	fputs("\nTARGET is a URL (file:///dir, nfs://host/export/path, s3://bucket/key,\n"
	      "az://container/path) or -c CONFIG /path/in/namespace.\n"
	      "SOURCE is a config file (see unifs.conf(5)) or one URL.\n"
	      "\n"
	      "  unifs COMMAND --help   help on one command\n"
	      "  unifs --version        print the version\n"
	      "\n",
	      f);
	ufs_backend_print_help(f);
	fputs("\nExit status: 0 success, 1 failure, 2 usage error. See unifs(1).\n", f);
}

static const struct unifs_cmd *unifs_find(const char *name)
{
	for (size_t i = 0; i < UNIFS_N_CMDS; i++)
		if (strcmp(unifs_cmds[i].name, name) == 0)
			return &unifs_cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct unifs_cmd *cmd;

	if (argc < 2) {
		unifs_usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		unifs_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("unifs %s\n", UFS_VERSION);
		return CLI_OK;
	}
	cmd = unifs_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "unifs: unknown command '%s' (see unifs --help)\n", argv[1]);
		return CLI_USAGE;
	}
	return cmd->main(argc - 1, argv + 1);
}
