/*
 * json.c — see json.h. A recursive-descent checker over the text with a
 * cursor; the top-level object's members are compared with the key as they
 * pass, and the matching string is decoded once the whole text is known to
 * be well-formed. Depth is bounded (JSON_DEPTH_MAX) so hostile nesting
 * cannot exhaust the stack.
 */
#include "common/json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 32

struct json_cur {
	const char *p, *end;
};

static void json_ws(struct json_cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int json_hex4(const char *p, unsigned *pv)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char ch = p[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (unsigned)(ch - 'A' + 10);
		else
			return -EINVAL;
	}
	*pv = v;
	return 0;
}

/* Skip a string starting at its quote; *ps and *pn: its raw body. */
static int json_string(struct json_cur *c, const char **ps, size_t *pn)
{
	const char *s;

	if (c->p >= c->end || *c->p != '"')
		return -EINVAL;
	s = ++c->p;
	while (c->p < c->end && *c->p != '"') {
		if ((unsigned char)*c->p < 0x20)
			return -EINVAL;
		if (*c->p == '\\') {
			unsigned v;

			if (++c->p >= c->end)
				return -EINVAL;
			if (*c->p == 'u') {
				if (c->end - c->p < 5 || json_hex4(c->p + 1, &v) != 0)
					return -EINVAL;
				c->p += 4;
			} else if (!strchr("\"\\/bfnrt", *c->p)) {
				return -EINVAL;
			}
		}
		c->p++;
	}
	if (c->p >= c->end)
		return -EINVAL;
	*ps = s;
	*pn = (size_t)(c->p - s);
	c->p++;
	return 0;
}

static int json_number(struct json_cur *c)
{
	const char *s = c->p;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return -EINVAL;
	while (c->p < c->end && strchr("0123456789.eE+-", *c->p))
		c->p++;
	return c->p > s ? 0 : -EINVAL;
}

static int json_value(struct json_cur *c, int depth);

/* An object or array starting at c->p ('{' or '['). On the top object
 * (key != NULL) the value of key is reported through *pv / *pvn / *pkind. */
static int json_compound(struct json_cur *c, int depth, const char *key, const char **pv,
			 size_t *pvn, char *pkind)
{
	char close = *c->p == '{' ? '}' : ']';
	int obj = close == '}', first = 1;

	if (depth > JSON_DEPTH_MAX)
		return -EINVAL;
	c->p++;
	for (;;) {
		const char *k = NULL, *v;
		size_t kn = 0;

		json_ws(c);
		if (c->p < c->end && *c->p == close && first) {
			c->p++;
			return 0;
		}
		if (obj) {
			if (json_string(c, &k, &kn) != 0)
				return -EINVAL;
			json_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return -EINVAL;
			json_ws(c);
		}
		v = c->p;
		if (json_value(c, depth + 1) != 0)
			return -EINVAL;
		if (key && k && !*pkind && kn == strlen(key) && memcmp(k, key, kn) == 0) {
			*pkind = *v;
			*pv = v;
			*pvn = (size_t)(c->p - v);
		}
		json_ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			first = 0;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		return -EINVAL;
	}
}

static int json_value(struct json_cur *c, int depth)
{
	static const char *const lits[] = {"true", "false", "null"};
	const char *s;
	size_t n;

	if (c->p >= c->end)
		return -EINVAL;
	if (*c->p == '{' || *c->p == '[')
		return json_compound(c, depth, NULL, NULL, NULL, NULL);
	if (*c->p == '"')
		return json_string(c, &s, &n);
	for (size_t i = 0; i < 3; i++) {
		n = strlen(lits[i]);
		if ((size_t)(c->end - c->p) >= n && memcmp(c->p, lits[i], n) == 0) {
			c->p += n;
			return 0;
		}
	}
	return json_number(c);
}

static void json_utf8(char **po, unsigned cp)
{
	char *o = *po;

	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	*po = o;
}

/* Decode a checked string body s[0..n) (escapes valid) into a malloc'd copy. */
static char *json_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	const char *end = s + n;

	if (!out)
		return NULL;
	while (s < end) {
		unsigned cp, lo;

		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		if (*s != 'u') {
			const char *m = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", *s);

			*o++ = m[1];
			s++;
			continue;
		}
		json_hex4(s + 1, &cp);
		s += 5;
		if (cp >= 0xD800 && cp < 0xDC00 && end - s >= 6 && s[0] == '\\' && s[1] == 'u' &&
		    json_hex4(s + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			s += 6;
		}
		json_utf8(&o, cp);
	}
	*o = '\0';
	return out;
}

int ufs_json_get(const char *json, size_t len, const char *key, char **pval)
{
	struct json_cur c = {json, json + len};
	const char *v = NULL;
	size_t vn = 0;
	char kind = 0;

	*pval = NULL;
	json_ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return -EINVAL;
	if (json_compound(&c, 0, key, &v, &vn, &kind) != 0)
		return -EINVAL;
	json_ws(&c);
	if (c.p != c.end)
		return -EINVAL;
	if (!kind || kind == 'n' || kind == '[' || kind == '{')
		return -ENOENT;
	*pval = kind == '"' ? json_decode(v + 1, vn - 2) : strndup(v, vn);
	return *pval ? 0 : -ENOMEM;
}
