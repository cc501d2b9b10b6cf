/*
 * cli.h — what every unifs command shares to talk to its user, whether it
 * is a front end in mount-helpers/ or the migration engine below it
 * (migrate/): the exit statuses, the one-line error message, help detection
 * and a write that never stops short.
 *
 * Every command entry point has the shape of main(): it gets its own argv
 * (argv[0] is the command name, e.g. "ls") and returns the process exit
 * status: CLI_OK, CLI_FAIL (runtime failure) or CLI_USAGE (bad usage).
 * Messages go to stderr as one line: "unifs: CMD: what: why", control
 * characters and backslashes escaped (names are untrusted: object keys,
 * file names, servers' messages).
 */
#ifndef UFS_CLI_H
#define UFS_CLI_H

#include <stddef.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_ERR_MAX 512

/* Print "unifs: CMD: <formatted>" and a newline to stderr, as one write;
 * the formatted part goes through ufs_sb_text_str (common/strbuf.h), so a
 * name or a server's message in it can neither break the line nor send
 * terminal escapes. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write s to f escaped by ufs_sb_text_str's rule (for names printed on
 * stdout: listings, report lines). */
void cli_put_text(FILE *f, const char *s);

/* strerror() of a -errno / errno value (sign ignored). */
const char *cli_strerror(int err);

/* Write all of buf to fd (retrying short writes and EINTR); 0 or -errno. */
int cli_write_all(int fd, const void *buf, size_t len);

/* True when argv[1..] holds "-h" or "--help" before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
