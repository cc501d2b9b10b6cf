/*
 * json.h — reading one member of a JSON object: the answers of token
 * services (EC2/ECS/Azure metadata endpoints, Azure AD, credential_process)
 * are small flat objects, and a caller needs a few of their members.
 *
 * The whole text is checked to be one well-formed JSON value (RFC 8259:
 * strings with their escapes, numbers, literals, nested arrays and objects
 * up to a depth bound), so a truncated or garbled answer is refused rather
 * than half read. Nothing is allocated except the returned value.
 */
#ifndef UFS_JSON_H
#define UFS_JSON_H

#include <stddef.h>

/*
 * The value of member key of the top-level object of json (len bytes, need
 * not be NUL-terminated), malloc'd into *pval: a string's decoded text
 * (\uXXXX as UTF-8, surrogate pairs joined), or the literal text of a number,
 * true, false. Returns 0; -ENOENT when the object has no such member or its
 * value is null, an array or an object; -EINVAL when json is not one
 * well-formed object; -ENOMEM. The first occurrence wins.
 */
int ufs_json_get(const char *json, size_t len, const char *key, char **pval);

#endif
