/*
 * test_row_change.c - every row change in the real fixture binlogs becomes
 * a key and valid JSON images, and one row keeps one key across its changes.
 */
#include "ringwatch/binlog_reader.h"
#include "ringwatch/row_change.h"

#include "../tap.h"

#include <jansson.h>
#include <stdlib.h>

struct tally {
	int changes, inserts, updates, deletes, bad_json, bad_shape, bad_key, named, errors;
	int hashed;
};

static int valid_object(const rw_buf *b)
{
	json_t *j = json_loadb(b->p, b->len, 0, NULL);
	int ok = json_is_object(j);

	json_decref(j);
	return ok;
}

static void check_change(const row_change *c, struct tally *t)
{
	size_t lead = strlen(c->schema) + 1 + strlen(c->table) + 1;

	t->changes++;
	t->inserts += c->op == ROW_CHANGE_INSERT;
	t->updates += c->op == ROW_CHANGE_UPDATE;
	t->deletes += c->op == ROW_CHANGE_DELETE;
	t->hashed += c->key_from_hash;
	if (c->key.len <= lead || memcmp(c->key.p, c->schema, strlen(c->schema) + 1) != 0)
		t->bad_key++;
	if ((c->op != ROW_CHANGE_INSERT) != (c->before.len > 0) ||
	    (c->op != ROW_CHANGE_DELETE) != (c->after.len > 0))
		t->bad_shape++;
	if ((c->before.len > 0 && !valid_object(&c->before)) ||
	    (c->after.len > 0 && !valid_object(&c->after)) || !valid_object(&c->key_json))
		t->bad_json++;
	if (!c->key_from_hash && c->after.len > 0) {
		/* every key column and value stands in the row as it is */
		json_t *k = json_loadb(c->key_json.p, c->key_json.len, 0, NULL);
		json_t *row = json_loadb(c->after.p, c->after.len, 0, NULL);
		const char *name;
		json_t *v;
		json_object_foreach(k, name, v)
		{
			if (!json_equal(v, json_object_get(row, name)))
				t->bad_key++;
		}
		json_decref(k);
		json_decref(row);
	}
	if (strstr(c->after.len ? c->after.p : c->before.p, "\"@1\"") == NULL)
		t->named++;
}

static struct tally scan(const char *name)
{
	struct tally t = { 0 };
	const char *dir = getenv("RW_FIXTURES");
	char path[1024];
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_event ev;
	row_change c;
	rw_error err;
	uint8_t buf[65536];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures/binlog", name);
	fp = fopen(path, "rb");
	row_change_init(&c);
	while (fp != NULL && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (binlog_reader_feed(r, buf, n, &err) != 0)
			break;
		while (binlog_reader_next(r, &ev, &err) == 1) {
			row_change_iter it;
			int rc;
			if (!binlog_event_is_rows(ev.hdr.type) ||
			    ev.u.rows.kind == BINLOG_ROWS_PARTIAL_UPDATE)
				continue;
			if (row_change_iter_init(&it, &ev.u.rows, NULL, &err) != 0) {
				t.errors++;
				continue;
			}
			while ((rc = row_change_next(&it, &c, &err)) == 1)
				check_change(&c, &t);
			t.errors += rc < 0;
			if (rc < 0)
				tap_diag("%s: %s", name, err.text);
			row_change_iter_free(&it);
		}
	}
	if (fp != NULL)
		fclose(fp);
	row_change_free(&c);
	binlog_reader_free(r);
	return t;
}

static void check_file(const char *name, int want_names)
{
	struct tally t = scan(name);

	ok(t.changes > 0, "%s: %d row changes (%d ins, %d upd, %d del)", name, t.changes, t.inserts,
	   t.updates, t.deletes);
	is_int(t.errors, 0, "%s: no errors", name);
	is_int(t.bad_key, 0, "%s: every key starts with schema and table", name);
	is_int(t.bad_shape, 0, "%s: images match the operation", name);
	is_int(t.bad_json, 0, "%s: images and key are JSON objects", name);
	if (want_names)
		is_int(t.named, t.changes, "%s: columns named from the metadata", name);
}

int main(void)
{
	check_file("rust_mysql_common/mariadb-bin.000001", 1);
	check_file("rust_mysql_common/mysql-enum-string-set.000001", 1);
	check_file("mysql-binlog-connector-java/mysql-bin.checksum-crc32", 0);
	check_file("go-mysql/tcb-eval002c-bin.003320", 0);
	check_file("rust_mysql_common/update-full-row.binlog", 0);
	return tap_done();
}
