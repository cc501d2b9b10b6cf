/* test_metrics.c — histograms, the metrics address syntax, the text-format
 * writers, and the backend counters by op/code that feed them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/metrics.h"
#include "protocols/backend.h"

static void test_hist_buckets(void **state)
{
	struct ufs_hist h = {0};
	struct ufs_strbuf b = {0};
	char *s;

	(void)state;
	ufs_hist_observe(&h, 0.0005); /* <= 1 ms */
	ufs_hist_observe(&h, 0.003);  /* <= 5 ms */
	ufs_hist_observe(&h, 1000);   /* +Inf */
	ufs_hist_observe(&h, -1);     /* counts as 0 */
	assert_int_equal(ufs_hist_count(&h), 4);
	ufs_prom_hist(&b, "x_seconds", "op=\"read\"", &h);
	s = ufs_sb_take(&b);
	assert_non_null(s);
	/* cumulative buckets */
	assert_non_null(strstr(s, "x_seconds_bucket{op=\"read\",le=\"0.001\"} 2\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{op=\"read\",le=\"0.005\"} 3\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{op=\"read\",le=\"60\"} 3\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(s, "x_seconds_count{op=\"read\"} 4\n"));
	assert_non_null(strstr(s, "x_seconds_sum{op=\"read\"} 1000.0035"));
	free(s);
}

static void test_hist_no_labels(void **state)
{
	struct ufs_hist h = {0};
	struct ufs_strbuf b = {0};
	char *s;

	(void)state;
	ufs_hist_observe(&h, 0.02);
	ufs_prom_hist(&b, "y", "", &h);
	s = ufs_sb_take(&b);
	assert_non_null(strstr(s, "y_bucket{le=\"0.025\"} 1\n"));
	assert_non_null(strstr(s, "y_count{} 1\n"));
	free(s);
}

static void test_label_escaping(void **state)
{
	struct ufs_strbuf b = {0};
	char *s;

	(void)state;
	ufs_prom_label(&b, "a\"b\\c\nd");
	s = ufs_sb_take(&b);
	assert_string_equal(s, "\"a\\\"b\\\\c\\nd\"");
	free(s);
	ufs_prom_family(&b, "n_total", "counter", "Help text.");
	s = ufs_sb_take(&b);
	assert_string_equal(s, "# HELP n_total Help text.\n# TYPE n_total counter\n");
	free(s);
}

static void test_parse_addr(void **state)
{
	struct sockaddr_in sa;
	char err[160];

	(void)state;
	assert_int_equal(ufs_metrics_parse_addr("127.0.0.1:9464", &sa, err, sizeof(err)), 0);
	assert_int_equal(ntohs(sa.sin_port), 9464);
	assert_int_equal(ntohl(sa.sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ufs_metrics_parse_addr("localhost:1", &sa, err, sizeof(err)), 0);
	assert_int_equal(ufs_metrics_parse_addr("0.0.0.0:65535", &sa, err, sizeof(err)), 0);
	assert_int_equal(ntohs(sa.sin_port), 65535);
	static const char *const bad[] = {"9464",	   ":9464",	      "127.0.0.1:",
					  "127.0.0.1:0",   "127.0.0.1:65536", "1.2.3:80",
					  "127.0.0.1:80x", "host.example:80", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ufs_metrics_parse_addr(bad[i], &sa, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "metrics: expected HOST:PORT"));
		assert_null(strchr(err, '\n'));
	}
}

static void test_config_key(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[256];

	(void)state;
	assert_int_equal(
	    ufs_config_from_url("file:///tmp", &ufs_backend_schema, &cfg, err, sizeof(err)), 0);
	assert_null(cfg->metrics); /* off by default */
	assert_int_equal(ufs_config_set_global(cfg, "metrics", "127.0.0.1:19464", err, sizeof(err)),
			 0);
	assert_string_equal(cfg->metrics, "127.0.0.1:19464");
	assert_int_equal(ufs_config_set_global(cfg, "metrics", "nope", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "got 'nope'"));
	assert_string_equal(cfg->metrics, "127.0.0.1:19464");
	ufs_config_destroy(cfg);
}

static void test_count_code(void **state)
{
	struct ufs_backend *be = calloc(1, sizeof(*be));

	(void)state;
	ufs_be_count_code(be, UFS_REQ_GET, 200, 10, 0);
	ufs_be_count_code(be, UFS_REQ_GET, 200, 5, 0);
	ufs_be_count_code(be, UFS_REQ_GET, 404, 0, 0);
	ufs_be_count_code(be, UFS_REQ_PUT, 999, 0, 7);
	ufs_be_count(be, UFS_REQ_HEAD, 0, 0);
	assert_int_equal(atomic_load(&be->stats.by_code[UFS_REQ_GET][200]), 2);
	assert_int_equal(atomic_load(&be->stats.by_code[UFS_REQ_GET][404]), 1);
	assert_int_equal(atomic_load(&be->stats.by_code[UFS_REQ_PUT][UFS_BE_CODE_OTHER]), 1);
	assert_int_equal(atomic_load(&be->stats.by_code[UFS_REQ_HEAD][0]), 1);
	assert_int_equal(atomic_load(&be->stats.req[UFS_REQ_GET]), 3);
	assert_int_equal(atomic_load(&be->stats.bytes_in), 15);
	assert_int_equal(atomic_load(&be->stats.bytes_out), 7);
	assert_string_equal(ufs_req_kind_name(UFS_REQ_DELETE), "DELETE");
	assert_string_equal(ufs_be_op_name(UFS_BE_OP_READ), "read");
	assert_string_equal(ufs_be_op_name(UFS_BE_OP_STATFS), "statfs");
	free(be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hist_buckets),   cmocka_unit_test(test_hist_no_labels),
	    cmocka_unit_test(test_label_escaping), cmocka_unit_test(test_parse_addr),
	    cmocka_unit_test(test_config_key),	   cmocka_unit_test(test_count_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
