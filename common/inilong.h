/*
 * inilong.h — INI text parsed by inih with lines of any length.
 *
 * Debian's libinih is built with INI_MAX_LINE = 200: a longer line is cut,
 * so a session token of 1,000+ bytes reaches the handler truncated (or the
 * rest of the line becomes a parse error). The limit is compiled into the
 * library, so ufs_ini_parse_text() pre-splits: it finds each over-long
 * "key = value" line itself, hands inih the line with the value replaced by
 * a short placeholder, and gives the handler the whole value back. inih
 * still does all the parsing (sections, comments, line numbers).
 */
#ifndef UFS_INILONG_H
#define UFS_INILONG_H

#include <ini.h>

/*
 * Parse text as ini_parse_string() does, calling h(user, section, name,
 * value) for every key, but with values of any length (a value longer than
 * inih's limit is trimmed of blanks and of an inline " ;comment" as inih
 * would). Over-long comment lines are skipped. Returns 0, the line of the
 * first handler or syntax error, or -2 when memory runs out. Copies of long
 * values are wiped before they are freed (they may be secrets).
 */
int ufs_ini_parse_text(const char *text, ini_handler h, void *user);

#endif
