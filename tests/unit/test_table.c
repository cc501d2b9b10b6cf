/* test_table.c — the keyed table: insert, find, remove, growth and its bound,
 * walks that remove as they go, many keys, colliding hashes, shared keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/table.h"

struct item {
	int pad; /* the node is not the first member */
	struct ufs_tnode node;
	uint64_t key;
	int seen;
};

static int item_eq(const struct ufs_tnode *n, const void *key)
{
	return ufs_table_entry(n, struct item, node)->key == *(const uint64_t *)key;
}

/* A hash that scatters keys; colliding() sends every key to one chain. */
static uint64_t spread(uint64_t k)
{
	return k * 0x9E3779B97F4A7C15ull;
}

static uint64_t colliding(uint64_t k)
{
	(void)k;
	return 42;
}

static struct item *find(struct ufs_table *t, uint64_t (*h)(uint64_t), uint64_t key)
{
	return ufs_table_entry(ufs_table_find(t, h(key), &key), struct item, node);
}

static struct item *items(size_t n)
{
	struct item *v = calloc(n, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i].key = i * 7 + 1;
	return v;
}

static void test_insert_find_remove(void **state)
{
	struct ufs_table t;
	struct item *v = items(3);
	uint64_t absent = 1000;

	(void)state;
	assert_int_equal(ufs_table_init(&t, 16, 16, item_eq), 0);
	assert_null(find(&t, spread, 1));
	for (int i = 0; i < 3; i++)
		ufs_table_insert(&t, &v[i].node, spread(v[i].key));
	assert_int_equal(ufs_table_count(&t), 3);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(find(&t, spread, v[i].key), &v[i]);
	assert_null(ufs_table_find(&t, spread(absent), &absent));
	ufs_table_remove(&t, &v[1].node);
	assert_int_equal(ufs_table_count(&t), 2);
	assert_null(find(&t, spread, v[1].key));
	assert_ptr_equal(find(&t, spread, v[0].key), &v[0]);
	assert_ptr_equal(find(&t, spread, v[2].key), &v[2]);
	ufs_table_remove(&t, &v[1].node); /* not in the table: left alone */
	assert_int_equal(ufs_table_count(&t), 2);
	ufs_table_fini(&t);
	free(v);
}

static void test_sizes_round_to_powers_of_two(void **state)
{
	struct ufs_table t;

	(void)state;
	assert_int_equal(ufs_table_init(&t, 1000, 3000, item_eq), 0);
	assert_int_equal(t.nbuckets, 1024);
	assert_int_equal(t.max_buckets, 4096);
	ufs_table_fini(&t);
	assert_int_equal(ufs_table_init(&t, 0, 0, item_eq), 0);
	assert_int_equal(t.nbuckets, 1);
	assert_int_equal(t.max_buckets, 1);
	ufs_table_fini(&t);
}

static void test_fixed_table_does_not_grow(void **state)
{
	struct ufs_table t;
	struct item *v = items(100);

	(void)state;
	assert_int_equal(ufs_table_init(&t, 8, 8, item_eq), 0);
	for (int i = 0; i < 100; i++)
		ufs_table_insert(&t, &v[i].node, spread(v[i].key));
	assert_int_equal(t.nbuckets, 8);
	for (int i = 0; i < 100; i++)
		assert_ptr_equal(find(&t, spread, v[i].key), &v[i]);
	ufs_table_fini(&t);
	free(v);
}

static void test_grows_up_to_its_bound(void **state)
{
	struct ufs_table t;
	struct item *v = items(5000);

	(void)state;
	assert_int_equal(ufs_table_init(&t, 4, 1024, item_eq), 0);
	for (int i = 0; i < 5000; i++) {
		size_t before = t.nbuckets, count = ufs_table_count(&t);

		ufs_table_insert(&t, &v[i].node, spread(v[i].key));
		/* it doubles exactly when it is full and below its bound */
		assert_int_equal(t.nbuckets,
				 count >= before && before < 1024 ? before * 2 : before);
	}
	assert_int_equal(t.nbuckets, 1024);
	assert_int_equal(ufs_table_count(&t), 5000);
	for (int i = 0; i < 5000; i++)
		assert_ptr_equal(find(&t, spread, v[i].key), &v[i]);
	ufs_table_fini(&t);
	free(v);
}

static void test_many_keys(void **state)
{
	enum { N = 200000 };
	struct ufs_table t;
	struct item *v = items(N);

	(void)state;
	assert_int_equal(ufs_table_init(&t, 16, SIZE_MAX, item_eq), 0);
	for (int i = 0; i < N; i++)
		ufs_table_insert(&t, &v[i].node, spread(v[i].key));
	for (int i = 0; i < N; i++)
		assert_ptr_equal(find(&t, spread, v[i].key), &v[i]);
	for (int i = 0; i < N; i += 2)
		ufs_table_remove(&t, &v[i].node);
	assert_int_equal(ufs_table_count(&t), N / 2);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(find(&t, spread, v[i].key), i % 2 ? &v[i] : NULL);
	ufs_table_fini(&t);
	free(v);
}

static void test_colliding_hashes(void **state)
{
	struct ufs_table t;
	struct item *v = items(50);

	(void)state;
	assert_int_equal(ufs_table_init(&t, 64, 64, item_eq), 0);
	for (int i = 0; i < 50; i++)
		ufs_table_insert(&t, &v[i].node, colliding(v[i].key));
	for (int i = 0; i < 50; i++)
		assert_ptr_equal(find(&t, colliding, v[i].key), &v[i]);
	for (int i = 0; i < 50; i += 3)
		ufs_table_remove(&t, &v[i].node); /* heads, middles and tails of the chain */
	for (int i = 0; i < 50; i++)
		assert_ptr_equal(find(&t, colliding, v[i].key), i % 3 ? &v[i] : NULL);
	ufs_table_fini(&t);
	free(v);
}

static void test_shared_key_walk(void **state)
{
	struct ufs_table t;
	struct item *v = items(6);
	uint64_t key = 99;
	struct ufs_tnode *n;
	int found = 0;

	(void)state;
	assert_int_equal(ufs_table_init(&t, 4, 4, item_eq), 0);
	for (int i = 0; i < 6; i++) {
		if (i % 2)
			v[i].key = key; /* three entries share key 99 */
		ufs_table_insert(&t, &v[i].node, colliding(v[i].key));
	}
	/* the newest first, then the older ones, never an entry of another key */
	assert_ptr_equal(find(&t, colliding, key), &v[5]);
	for (n = ufs_table_find(&t, colliding(key), &key); n;
	     n = ufs_table_find_next(&t, n, &key)) {
		assert_true(ufs_table_entry(n, struct item, node)->key == key);
		found++;
	}
	assert_int_equal(found, 3);
	ufs_table_fini(&t);
	free(v);
}

static void test_walk_removing_as_it_goes(void **state)
{
	enum { N = 3000 };
	struct ufs_table t;
	struct ufs_table_iter it;
	struct item *v = items(N);
	struct ufs_tnode *n;
	size_t walked = 0, removed = 0;

	(void)state;
	assert_int_equal(ufs_table_init(&t, 64, 64, item_eq), 0); /* long chains */
	for (int i = 0; i < N; i++)
		ufs_table_insert(&t, &v[i].node, spread(v[i].key));
	for (n = ufs_table_first(&t, &it); n; n = ufs_table_next(&it)) {
		struct item *e = ufs_table_entry(n, struct item, node);

		e->seen++;
		walked++;
		if (e->key % 3 == 0) {
			ufs_table_remove(&t, n);
			removed++;
		}
	}
	assert_true(removed > 0);
	assert_int_equal(walked, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(v[i].seen, 1);
		assert_ptr_equal(find(&t, spread, v[i].key), v[i].key % 3 ? &v[i] : NULL);
	}
	/* a second walk frees every entry it meets */
	walked = 0;
	for (n = ufs_table_first(&t, &it); n; n = ufs_table_next(&it)) {
		struct item *e = ufs_table_entry(n, struct item, node);

		ufs_table_remove(&t, n);
		memset(e, 0xA5, sizeof(*e)); /* as if freed: the walk must not look at it */
		walked++;
	}
	assert_int_equal(ufs_table_count(&t), 0);
	assert_int_equal(walked, N - removed);
	assert_null(ufs_table_first(&t, &it));
	ufs_table_fini(&t);
	free(v);
}

static void test_entry_of_null_is_null(void **state)
{
	(void)state;
	assert_null(ufs_table_entry((struct ufs_tnode *)NULL, struct item, node));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_insert_find_remove),
	    cmocka_unit_test(test_sizes_round_to_powers_of_two),
	    cmocka_unit_test(test_fixed_table_does_not_grow),
	    cmocka_unit_test(test_grows_up_to_its_bound),
	    cmocka_unit_test(test_many_keys),
	    cmocka_unit_test(test_colliding_hashes),
	    cmocka_unit_test(test_shared_key_walk),
	    cmocka_unit_test(test_walk_removing_as_it_goes),
	    cmocka_unit_test(test_entry_of_null_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
