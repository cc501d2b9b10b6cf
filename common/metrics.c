/* metrics.c — histograms, address syntax and text-format writers; see metrics.h. */
#include "common/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double ufs_hist_bounds[UFS_HIST_NB - 1] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
						 0.25,	0.5,	1,     2.5,  5,	    10,	  60};

double ufs_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ufs_hist_observe(struct ufs_hist *h, double seconds)
{
	int i = 0;

	if (seconds < 0)
		seconds = 0;
	while (i < UFS_HIST_NB - 1 && seconds > ufs_hist_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
}

uint64_t ufs_hist_count(const struct ufs_hist *h)
{
	uint64_t n = 0;

	for (int i = 0; i < UFS_HIST_NB; i++)
		n += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
	return n;
}

int ufs_metrics_parse_addr(const char *s, struct sockaddr_in *psa, char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char host[64], *end;
	long port;

	memset(psa, 0, sizeof(*psa));
	psa->sin_family = AF_INET;
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		goto bad;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &psa->sin_addr) != 1)
		goto bad;
	psa->sin_port = htons((uint16_t)port);
	return 0;
bad:
	snprintf(err, errlen, "metrics: expected HOST:PORT such as 127.0.0.1:9464, got '%s'", s);
	return -EINVAL;
}

void ufs_prom_family(struct ufs_strbuf *b, const char *name, const char *type, const char *help)
{
	ufs_sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void ufs_prom_label(struct ufs_strbuf *b, const char *v)
{
	ufs_sb_printf(b, "\"");
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			ufs_sb_printf(b, "\\%c", *v);
		else if (*v == '\n')
			ufs_sb_printf(b, "\\n");
		else
			ufs_sb_printf(b, "%c", *v);
	}
	ufs_sb_printf(b, "\"");
}

void ufs_prom_hist(struct ufs_strbuf *b, const char *name, const char *labels,
		   const struct ufs_hist *h)
{
	const char *sep = labels[0] ? "," : "";
	unsigned long long cum = 0;

	for (int i = 0; i < UFS_HIST_NB; i++) {
		cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		if (i < UFS_HIST_NB - 1)
			ufs_sb_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
				      ufs_hist_bounds[i], cum);
		else
			ufs_sb_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
				      cum);
	}
	ufs_sb_printf(b, "%s_sum{%s} %.9f\n", name, labels,
		      (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
	ufs_sb_printf(b, "%s_count{%s} %llu\n", name, labels, cum);
}
