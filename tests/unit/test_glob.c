/*
 * test_glob.c — common/glob.c: '*' within a component, '**' across them
 * (and "**" with its '/' matching nothing), '?', bracket expressions,
 * escapes, and that a pattern of many stars against a long string answers
 * at once (no backtracking).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/glob.h"

static int m(const char *pattern, const char *s)
{
	struct ufs_glob *g;
	int r;

	assert_int_equal(ufs_glob_compile(pattern, &g), 0);
	r = ufs_glob_match(g, s);
	ufs_glob_free(g);
	return r;
}

static void test_star(void **state)
{
	(void)state;
	assert_true(m("*.txt", "a.txt"));
	assert_true(m("*.txt", ".txt"));
	assert_false(m("*.txt", "d/a.txt"));
	assert_true(m("d/*.txt", "d/a.txt"));
	assert_false(m("d/*.txt", "d/e/a.txt"));
	assert_true(m("*", ""));
	assert_false(m("*", "a/b"));
	assert_true(m("a*b*c", "aXbYc"));
	assert_false(m("a*b*c", "aXbY"));
	assert_true(m("", ""));
	assert_false(m("", "a"));
	assert_true(m("abc", "abc"));
	assert_false(m("abc", "abcd"));
}

static void test_doublestar(void **state)
{
	(void)state;
	assert_true(m("**", "a/b/c"));
	assert_true(m("**", ""));
	assert_true(m("d/**", "d/a/b"));
	assert_true(m("d/**", "d/"));
	assert_false(m("d/**", "e/a"));
	assert_true(m("**.txt", "a/b/c.txt"));
	/* "**" and the '/' after it: nothing, or any run ending in '/' */
	assert_true(m("**/x", "x"));
	assert_true(m("**/x", "a/b/x"));
	assert_false(m("**/x", "ax"));
	assert_true(m("a/**/b", "a/b"));
	assert_true(m("a/**/b", "a/x/y/b"));
	assert_false(m("a/**/b", "a/xb"));
	assert_false(m("a/**/b", "ab"));
	assert_true(m("a/***/b", "a/x/b")); /* more stars are one "**" */
}

static void test_any_class_escape(void **state)
{
	(void)state;
	assert_true(m("?.c", "a.c"));
	assert_false(m("?", "/"));
	assert_false(m("?.c", "ab.c"));
	assert_true(m("[abc].c", "b.c"));
	assert_false(m("[abc].c", "d.c"));
	assert_true(m("[!abc].c", "d.c"));
	assert_true(m("[a-z]9", "q9"));
	assert_true(m("[[:digit:]]x", "7x"));
	assert_true(m("[]]", "]"));
	assert_false(m("[/]", "/"));  /* a class never matches '/' */
	assert_true(m("[ab", "[ab")); /* no closing ']': plain '[' */
	assert_true(m("\\*", "*"));
	assert_false(m("\\*", "a"));
	assert_true(m("a\\?", "a?"));
}

static void test_no_blowup(void **state)
{
	char s[4097], p[200];

	(void)state;
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	for (size_t i = 0; i < sizeof(p) - 2; i += 2) {
		p[i] = '*';
		p[i + 1] = i % 4 ? 'a' : '*';
	}
	p[sizeof(p) - 2] = 'b';
	p[sizeof(p) - 1] = '\0';
	assert_false(m(p, s)); /* never 'b': would take forever when backtracking */
	s[sizeof(s) - 2] = 'b';
	assert_true(m(p, s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_doublestar),
	    cmocka_unit_test(test_any_class_escape),
	    cmocka_unit_test(test_no_blowup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
