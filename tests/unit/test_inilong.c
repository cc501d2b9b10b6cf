/* test_inilong.c — inih over lines longer than Debian's 200-byte limit: long
 * values whole, line numbers kept, long comments skipped, AWS credentials
 * files with a long session token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/inilong.h"
#include "common/strbuf.h"
#include "protocols/s3/creds.h"

struct seen {
	char section[64], name[64];
	char *value; /* last value seen */
	int count;
};

static int on_kv(void *arg, const char *section, const char *name, const char *value)
{
	struct seen *s = arg;

	snprintf(s->section, sizeof(s->section), "%s", section);
	snprintf(s->name, sizeof(s->name), "%s", name);
	free(s->value);
	s->value = strdup(value);
	s->count++;
	return strcmp(name, "bad") != 0; /* "bad" is a handler error */
}

/* n bytes of a token-like value (base64 alphabet, deterministic). */
static char *token(size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *t = malloc(n + 1);

	assert_non_null(t);
	for (size_t i = 0; i < n; i++)
		t[i] = b64[(i * 7 + i / 64) % 64];
	t[n] = '\0';
	return t;
}

static void test_long_value_whole(void **state)
{
	static const size_t sizes[] = {150, 199, 200, 201, 2000, 8192, 70000};
	struct seen s = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *tok = token(sizes[i]);
		struct ufs_strbuf b = {0};

		ufs_sb_printf(&b, "[sec]\nkey = %s   ; a comment\nafter=1\n", tok);
		s.count = 0;
		assert_int_equal(ufs_ini_parse_text(b.s, on_kv, &s), 0);
		assert_int_equal(s.count, 2);
		free(b.s);
		b = (struct ufs_strbuf){0};
		ufs_sb_printf(&b, "[sec]\nkey:%s\n", tok);
		assert_int_equal(ufs_ini_parse_text(b.s, on_kv, &s), 0);
		assert_string_equal(s.name, "key");
		assert_string_equal(s.value, tok);
		free(b.s);
		free(tok);
	}
	free(s.value);
}

static void test_line_numbers_kept(void **state)
{
	char *tok = token(9000);
	struct ufs_strbuf b = {0};
	struct seen s = {0};

	(void)state;
	ufs_sb_printf(&b, "[sec]\n; %s\nlong = %s\n# %s\nok = 1\nbad = 2\n", tok, tok, tok);
	assert_int_equal(ufs_ini_parse_text(b.s, on_kv, &s), 6);
	assert_string_equal(s.name, "bad");
	free(b.s);
	b = (struct ufs_strbuf){0};
	/* a long line without a key is still a syntax error, on its own line */
	ufs_sb_printf(&b, "[sec]\nok = 1\n%s\n", tok);
	assert_int_equal(ufs_ini_parse_text(b.s, on_kv, &s), 3);
	free(b.s);
	free(tok);
	free(s.value);
}

static void test_creds_long_session_token(void **state)
{
	char *tok = token(2000);
	struct ufs_strbuf b = {0};
	struct ufs_aws_creds c;

	(void)state;
	ufs_sb_printf(&b,
		      "[default]\naws_access_key_id = AKID\naws_secret_access_key = SK\n"
		      "aws_session_token = %s\n\n[other]\naws_access_key_id = X\n",
		      tok);
	assert_int_equal(ufs_aws_creds_parse(b.s, "default", &c), 0);
	assert_string_equal(c.session_token, tok);
	assert_int_equal(strlen(c.session_token), 2000);
	ufs_aws_creds_clear(&c);
	free(b.s);
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_long_value_whole),
	    cmocka_unit_test(test_line_numbers_kept),
	    cmocka_unit_test(test_creds_long_session_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
