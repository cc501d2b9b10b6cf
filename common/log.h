/*
 * log.h — one logging sink for the whole program.
 *
 * Foreground daemons and CLI commands log to stderr; a detached daemon logs to
 * syslog (ident "unifs"). Secrets must never be passed to these functions.
 */
#ifndef UFS_LOG_H
#define UFS_LOG_H

#include <stdarg.h>

enum ufs_log_level { UFS_LOG_ERROR = 0, UFS_LOG_WARN, UFS_LOG_INFO, UFS_LOG_DEBUG };

/* Select the sink (to_syslog != 0: syslog, else stderr) and the threshold. */
void ufs_log_init(int to_syslog, enum ufs_log_level level);

/* Change the threshold at run time (the control socket's "log LEVEL"). */
void ufs_log_set_level(enum ufs_log_level level);
/* The threshold now. */
enum ufs_log_level ufs_log_get_level(void);

/* Parse "error|warn|info|debug" into *plevel; returns 0, or -EINVAL. */
int ufs_log_parse_level(const char *s, enum ufs_log_level *plevel);

/* Log one line (no trailing newline needed) if level <= threshold. Thread-safe. */
void ufs_log(enum ufs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ufs_err(...) ufs_log(UFS_LOG_ERROR, __VA_ARGS__)
#define ufs_warn(...) ufs_log(UFS_LOG_WARN, __VA_ARGS__)
#define ufs_info(...) ufs_log(UFS_LOG_INFO, __VA_ARGS__)
#define ufs_debug(...) ufs_log(UFS_LOG_DEBUG, __VA_ARGS__)

#endif
