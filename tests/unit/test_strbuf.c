/*
 * test_strbuf.c — the growing string's two escapers for untrusted names:
 * ufs_sb_json_str (always valid UTF-8, invalid bytes as \udcXX the way
 * Python's surrogateescape writes them) and ufs_sb_text_str (`ls -b`-like
 * escapes for a terminal). Fixed cases pin the documented rules; random
 * byte strings check that both outputs decode back to the input (with a
 * decoder written here, independently of the encoder) and that the JSON
 * form is well-formed UTF-8 and the text form holds no control byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"

static char *json_of(const char *s)
{
	struct ufs_strbuf b = {0};

	ufs_sb_json_str(&b, s);
	return ufs_sb_take(&b);
}

static char *text_of(const char *s)
{
	struct ufs_strbuf b = {0};

	ufs_sb_text_str(&b, s);
	return b.s || b.oom ? ufs_sb_take(&b) : strdup(""); /* nothing appended */
}

/* Append code point cp as UTF-8 to out (no validity check: the decoders
 * below decide what may appear). */
static size_t put_utf8(unsigned cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode one code point at p by its lead byte's length and the value's
 * range (overlong, surrogate, > U+10FFFF refused): its length, or 0. */
static size_t get_utf8(const unsigned char *p, unsigned *pcp)
{
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = p[0] < 0x80		   ? 1
		   : (p[0] & 0xe0) == 0xc0 ? 2
		   : (p[0] & 0xf0) == 0xe0 ? 3
		   : (p[0] & 0xf8) == 0xf0 ? 4
					   : 0;
	unsigned cp;

	if (n == 0)
		return 0;
	cp = n == 1 ? p[0] : p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*pcp = cp;
	return n;
}

/* True when s is well-formed UTF-8 throughout. */
static int is_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp;

	while (*p) {
		size_t n = get_utf8(p, &cp);

		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

/* Decode a JSON string literal as Python's json.loads + encode("utf-8",
 * "surrogateescape") would: \udcXX gives back the byte XX. The bytes into
 * out (NUL-terminated); 0, or -1 when j is not such a literal. */
static int json_decode(const char *j, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)j;
	unsigned cp;

	if (*p++ != '"')
		return -1;
	while (*p && *p != '"') {
		if (*p < 0x20)
			return -1;
		if (*p != '\\') {
			size_t n = get_utf8(p, &cp);

			if (n == 0)
				return -1;
			memcpy(out, p, n);
			out += n;
			p += n;
			continue;
		}
		p++;
		if (*p == '"' || *p == '\\' || *p == '/') {
			*out++ = *p++;
		} else if (*p == 'u' && sscanf((const char *)p + 1, "%4x", &cp) == 1) {
			if (cp >= 0xdc80 && cp <= 0xdcff)
				*out++ = (unsigned char)(cp - 0xdc00);
			else if (cp >= 0xd800 && cp <= 0xdfff)
				return -1; /* the writer never pairs surrogates */
			else
				out += put_utf8(cp, out);
			p += 5;
		} else {
			return -1;
		}
	}
	*out = '\0';
	return p[0] == '"' && p[1] == '\0' ? 0 : -1;
}

/* Undo the text escapes (\\, \a..\r, \ooo) into out; 0, or -1 when t holds
 * a control byte or an unknown escape. */
static int text_decode(const char *t, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)t;

	while (*p) {
		const char *named = "abtnvfr", *k;

		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p != '\\') {
			*out++ = *p++;
			continue;
		}
		p++;
		if (*p == '\\') {
			*out++ = *p++;
		} else if (*p && (k = strchr(named, *p)) != NULL) {
			*out++ = (unsigned char)('\a' + (k - named));
			p++;
		} else if (p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' &&
			   p[2] >= '0' && p[2] <= '7') {
			*out++ =
			    (unsigned char)((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
			p += 3;
		} else {
			return -1;
		}
	}
	*out = '\0';
	return 0;
}

static void check_json(const char *in, const char *want)
{
	char *j = json_of(in);

	assert_non_null(j);
	assert_string_equal(j, want);
	free(j);
}

static void check_text(const char *in, const char *want)
{
	char *t = text_of(in);

	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);
}

static void test_json_rules(void **state)
{
	(void)state;
	check_json("", "\"\"");
	check_json("plain name.txt", "\"plain name.txt\"");
	check_json("a\"b\\c\n", "\"a\\\"b\\\\c\\u000a\"");
	check_json("\x1b[31mred\a", "\"\\u001b[31mred\\u0007\"");
	check_json("del\x7f", "\"del\\u007f\"");
	check_json("c1\xc2\x9b", "\"c1\\u009b\"");		/* CSI as UTF-8 */
	check_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", /* é € 😀 pass */
		   "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	check_json("\xff", "\"\\udcff\"");
	check_json("x\x80y", "\"x\\udc80y\"");				    /* stray continuation */
	check_json("\xc0\x80", "\"\\udcc0\\udc80\"");			    /* overlong NUL */
	check_json("\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"");	    /* surrogate */
	check_json("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\""); /* > U+10FFFF */
	check_json("\xe2\x82", "\"\\udce2\\udc82\"");			    /* truncated */
	check_json("\xe2\x82z", "\"\\udce2\\udc82z\"");
}

static void test_text_rules(void **state)
{
	(void)state;
	check_text("", "");
	check_text("plain name.txt", "plain name.txt");
	check_text("back\\slash", "back\\\\slash");
	check_text("a\nb\tc\rd\a\b\v\f", "a\\nb\\tc\\rd\\a\\b\\v\\f");
	check_text("\x1b[2Jgone", "\\033[2Jgone");
	check_text("\x01\x1f\x7f", "\\001\\037\\177");
	check_text("c1\xc2\x9b", "c1\\302\\233");
	check_text("caf\xc3\xa9 \xc2\xa0", "caf\xc3\xa9 \xc2\xa0"); /* U+00A0 is no C1 */
	check_text("\xff\xfe", "\\377\\376");
	check_text("\xe2\x82z", "\\342\\202z");
	check_text("forged\nmissing x", "forged\\nmissing x");
}

/* Random strings of bytes (more of the interesting ones: controls,
 * backslash, quote, lead and continuation bytes): both escapers must give
 * back the input, JSON as valid UTF-8, text without a control byte. */
static void test_roundtrip(void **state)
{
	static const unsigned char pick[] = {0x01, 0x07, 0x0a, 0x1b, 0x7f, '\\', '"',  'a',
					     ' ',  0x80, 0x9b, 0xbf, 0xc2, 0xc3, 0xe2, 0xed,
					     0xf0, 0xf4, 0xff, 0xa9, 0x82, 0x9f, 0x98, 0x90};
	unsigned char in[40], out[200];
	unsigned seed = 12345;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)(iter % 37);
		char *j, *t;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (seed >> 16) % 3 ? pick[(seed >> 8) % sizeof(pick)]
						 : (unsigned char)(1 + (seed >> 8) % 255);
		}
		in[n] = '\0';
		j = json_of((const char *)in);
		t = text_of((const char *)in);
		assert_non_null(j);
		assert_non_null(t);
		assert_true(is_utf8(j));
		assert_int_equal(json_decode(j, out), 0);
		assert_string_equal((const char *)out, (const char *)in);
		assert_int_equal(text_decode(t, out), 0);
		assert_string_equal((const char *)out, (const char *)in);
		for (const unsigned char *p = (const unsigned char *)t; *p; p++)
			assert_false(*p < 0x20 || *p == 0x7f ||
				     (p[0] == 0xc2 && p[1] < 0xa0 && p[1] >= 0x80));
		free(j);
		free(t);
	}
}

static void test_vprintf(void **state)
{
	struct ufs_strbuf b = {0};
	char *s;

	(void)state;
	ufs_sb_printf(&b, "%s-%d", "x", 42);
	for (int i = 0; i < 100; i++)
		ufs_sb_printf(&b, "%c", 'a' + i % 26);
	s = ufs_sb_take(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 104);
	assert_memory_equal(s, "x-42abc", 7);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_rules),
	    cmocka_unit_test(test_text_rules),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_vprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
