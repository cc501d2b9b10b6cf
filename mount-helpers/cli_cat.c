/*
 * cli_cat.c — `unifs cat TARGET`: stream one object to stdout through
 * CAT_INFLIGHT parallel CAT_CHUNK ranged reads (cli_stream.c), pinned to the
 * identity from getattr, so a file that changes under us fails with ESTALE.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAT_CHUNK (8u << 20)
#define CAT_INFLIGHT 4

static int cat_sink(void *arg, const void *buf, size_t len, uint64_t off)
{
	(void)arg;
	(void)off;
	return cli_write_all(STDOUT_FILENO, buf, len);
}

/* Stream the object; returns 0 or -errno (*pwrite_err: a stdout failure). */
static int cat_stream(struct mig_target *t, const struct ufs_attr *a, int *pwrite_err)
{
	const struct mig_stream_opts o = {.chunk = CAT_CHUNK, .inflight = CAT_INFLIGHT};
	struct ufs_obj obj = {.path = t->rel, .size = a->size, .mtime = a->mtime};

	memcpy(obj.etag, a->etag, sizeof(obj.etag));
	return mig_stream_object(t->be, &obj, &o, cat_sink, NULL, pwrite_err);
}

static void cat_usage(FILE *f)
{
	fputs("usage: unifs cat [--region R] URL\n"
	      "       unifs cat -c CONFIG /path/in/namespace\n"
	      "\n"
	      "Write one file or object to stdout (parallel 8 MiB ranged reads).\n",
	      f);
}

static int cat_run(struct mig_target *t)
{
	struct ufs_attr a;
	int write_err = 0;
	int rc = mig_target_getattr(t, &a);

	if (rc == 0 && S_ISDIR(a.mode))
		rc = -EISDIR;
	if (rc == 0 && !t->be)
		rc = -ENOENT;
	if (rc == 0)
		rc = cat_stream(t, &a, &write_err);
	if (rc == 0)
		return CLI_OK;
	if (write_err) {
		cli_error("cat", "stdout: %s", cli_strerror(rc));
		return CLI_FAIL;
	}
	return mig_target_fail(t, rc);
}

int cli_cat_main(int argc, char **argv)
{
	return cli_target_command(argc, argv, "cat", "", cat_usage, cat_run);
}
