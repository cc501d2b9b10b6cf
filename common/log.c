/* log.c — stderr/syslog sink behind ufs_log(); see log.h. */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static int log_to_syslog;
static atomic_int log_threshold = UFS_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void ufs_log_init(int to_syslog, enum ufs_log_level level)
{
	log_to_syslog = to_syslog;
	log_threshold = level;
	if (to_syslog)
		openlog("unifs", LOG_PID, LOG_DAEMON);
}

void ufs_log_set_level(enum ufs_log_level level)
{
	atomic_store(&log_threshold, (int)level);
}

enum ufs_log_level ufs_log_get_level(void)
{
	return (enum ufs_log_level)atomic_load(&log_threshold);
}

int ufs_log_parse_level(const char *s, enum ufs_log_level *plevel)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*plevel = (enum ufs_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void ufs_log(enum ufs_log_level level, const char *fmt, ...)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *const tag[] = {"error", "warn", "info", "debug"};
	char line[1024];
	va_list ap;

	if ((int)level > atomic_load(&log_threshold))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_to_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "unifs: %s: %s\n", tag[level], line);
	pthread_mutex_unlock(&log_lock);
}
