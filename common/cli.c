/* cli.c — small helpers shared by every unifs command (see cli.h). */
#include "common/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
	struct ufs_strbuf msg = {0}, line = {0};
	va_list ap;

	va_start(ap, fmt);
	ufs_sb_vprintf(&msg, fmt, ap);
	va_end(ap);
	ufs_sb_printf(&line, "unifs: %s: ", cmd);
	ufs_sb_text_str(&line, msg.s && !msg.oom ? msg.s : "(out of memory)");
	ufs_sb_append(&line, "\n", 1);
	if (!line.oom)
		fwrite(line.s, 1, line.len, stderr);
	else
		fprintf(stderr, "unifs: %s: (out of memory)\n", cmd);
	free(msg.s);
	free(line.s);
}

void cli_put_text(FILE *f, const char *s)
{
	struct ufs_strbuf b = {0};

	ufs_sb_text_str(&b, s);
	if (!b.oom && b.s)
		fwrite(b.s, 1, b.len, f);
	else if (b.oom)
		fputs("(out of memory)", f);
	free(b.s);
}

const char *cli_strerror(int err)
{
	return strerror(abs(err));
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
