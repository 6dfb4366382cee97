/*
 * cli_analyze.c - `ringwatch analyze --master NAME=FILE[,FILE...] ...`: the
 * conflict engine, offline, on the binlog files of two or more masters.
 *
 * Each master's files are read in the order given and fed through the same
 * conflict_feed the daemon uses.  A master's server_id is the one that wrote
 * its binlog (the FORMAT_DESCRIPTION event's); transactions whose origin is
 * none of the masters are not compared.  The streams are fed together, as
 * the daemon reads them live: always the earliest next event by its binlog
 * timestamp, the masters taking turns among events of the same second
 * (feed_all()), so the engine holds only the writes of the last moments.
 * The engine decides each pair from the order of each stream alone, so the
 * pairs found do not depend on how the streams are interleaved; whether
 * their row images are still in the engine's rings, and its bound on
 * tracked writes, do.
 */
#include "cli_analyze.h"

#include "cli_client.h"
#include "common/conflict_json.h"
#include "common/hex.h"
#include "common/time_text.h"

#include "ringwatch/binlog_reader.h"
#include "ringwatch/conflict.h"
#include "ringwatch/conflict_feed.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/schema_history.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct input {
	char *name;
	char **files;
	size_t n_files;
	uint32_t server_id;
};

struct analysis {
	struct input in[CONFLICT_MAX_MASTERS];
	const char *names[CONFLICT_MAX_MASTERS];
	unsigned n;
	json_t *found;  /* in detection order */
	json_t *by_uid; /* uid -> index in found */
	json_t *by_row; /* schema, table and key bytes (hex) -> [indexes in found] */
	conflict_keys *keys;
	int incomplete;     /* images or writes were lost: not a clean answer */
	unsigned long lost; /* reported conflicts missing an evicted image */
	struct schema_file {
		const char *path;
		int master; /* -1: every master */
	} schemas[2 * CONFLICT_MAX_MASTERS];
	unsigned n_schemas;
	struct unseen {
		unsigned master;
		char *schema, *table, *why;
		uint64_t rows;
	} * unseen; /* tables whose rows were not compared */
	size_t n_unseen, cap_unseen;
	uint64_t unseen_rows;
	struct hook_arg {
		struct analysis *a;
		unsigned master;
	} hooks[CONFLICT_MAX_MASTERS];
};

static int origin_of(uint32_t server_id, void *arg)
{
	struct analysis *a = arg;

	for (unsigned i = 0; i < a->n; i++) {
		if (a->in[i].server_id == server_id)
			return (int)i;
	}
	return -1;
}

/* Whether a record lacks something the image rings no longer held. */
static bool lost_images(const conflict_record *r)
{
	if (r->key_evicted)
		return true;
	for (int i = 0; i < 2; i++) {
		if (r->writes[i].before.state == CONFLICT_IMAGE_EVICTED ||
		    r->writes[i].after.state == CONFLICT_IMAGE_EVICTED)
			return true;
	}
	for (unsigned m = 0; m < r->n_masters; m++) {
		if (r->final[m].state == CONFLICT_IMAGE_EVICTED)
			return true;
	}
	return false;
}

/* Which row a record is on, as text: schema, table and the key bytes in hex. */
static void row_of(const conflict_record *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%.*s.%.*s.", (int)r->schema.len, (const char *)r->schema.p,
			 (int)r->table.len, (const char *)r->table.p);

	if (n >= 0 && (size_t)n < len)
		hex_put(buf + n, len - (size_t)n, r->key.p, r->key.len);
}

/*
 * The final rows are the rows each master holds on that row: one object
 * shared by every record on it (the engine follows only so many records on
 * one row), updated once.  The newest record's finals are the freshest.
 */
static void share_final(struct analysis *a, const char *row, json_t *c)
{
	json_t *entry = json_object_get(a->by_row, row);
	json_t *final = json_object_get(c, "final");

	if (entry == NULL) {
		entry = json_pack("{s:O,s:[]}", "final", final, "idx");
		json_object_set_new(a->by_row, row, entry);
	} else {
		json_t *shared = json_object_get(entry, "final");
		json_object_clear(shared);
		json_object_update(shared, final);
		json_object_set(c, "final", shared);
	}
	json_array_append_new(json_object_get(entry, "idx"),
			      json_integer((json_int_t)json_array_size(a->found)));
}

static void on_conflict(const conflict_record *r, void *arg)
{
	struct analysis *a = arg;
	json_t *c = conflict_record_json(r, a->names, a->keys);
	char uid[CONFLICT_ID_TEXT], when[32], row[1024];

	conflict_uid(&r->id, uid);
	time_text((double)r->decided_at / 1e6, when);
	json_object_set_new(c, "id", json_integer((json_int_t)json_array_size(a->found) + 1));
	json_object_set_new(c, "state", json_string("open"));
	json_object_set_new(c, "detected_at", json_string(when));
	json_object_set_new(c, "uid", json_string(uid));
	json_object_set_new(a->by_uid, uid, json_integer((json_int_t)json_array_size(a->found)));
	row_of(r, row, sizeof(row));
	share_final(a, row, c);
	json_object_set_new(c, "_row", json_string(row));
	json_array_append_new(a->found, c);
	a->lost += lost_images(r);
}

static json_t *find(struct analysis *a, const conflict_id *id)
{
	char uid[CONFLICT_ID_TEXT];
	json_t *i;

	conflict_uid(id, uid);
	i = json_object_get(a->by_uid, uid);
	return i != NULL ? json_array_get(a->found, (size_t)json_integer_value(i)) : NULL;
}

static void on_updated(const conflict_update *u, void *arg)
{
	struct analysis *a = arg;
	json_t *c = find(a, &u->id);
	json_t *changes, *unknown;

	if (c == NULL)
		return;
	changes = json_object();
	unknown = json_array();
	conflict_update_json(u, a->names, changes, unknown);
	/* the shared finals of the row; every open record on it diverges or not */
	conflict_final_apply(json_object_get(c, "final"), changes, unknown);
	json_object_set_new(c, "diverged", json_boolean(u->diverged));
	{
		json_t *entry =
		    json_object_get(a->by_row, json_string_value(json_object_get(c, "_row")));
		json_t *i;
		size_t k;
		json_array_foreach(json_object_get(entry, "idx"), k, i)
		{
			json_t *o = json_array_get(a->found, (size_t)json_integer_value(i));
			if (strcmp(json_string_value(json_object_get(o, "state")), "open") == 0)
				json_object_set_new(o, "diverged", json_boolean(u->diverged));
		}
	}
	json_decref(changes);
	json_decref(unknown);
}

static void on_resolved(const conflict_id *id, int64_t now, void *arg)
{
	json_t *c = find(arg, id);
	char when[32];

	if (c == NULL)
		return;
	time_text((double)now / 1e6, when);
	json_object_set_new(c, "state", json_string("resolved"));
	json_object_set_new(c, "resolved_at", json_string(when));
	json_object_set_new(c, "resolved_by", json_string("engine"));
}

/* As ringwatchd's ledger: more than 256 open on its row, it is no longer followed (superseded). */
static void on_released(const conflict_id *id, const conflict_id *newer, int64_t now, void *arg)
{
	json_t *c = find(arg, id);
	char when[32];

	(void)newer;
	if (c == NULL)
		return;
	time_text((double)now / 1e6, when);
	json_object_set_new(c, "state", json_string("resolved"));
	json_object_set_new(c, "resolved_at", json_string(when));
	json_object_set_new(c, "resolved_by", json_string("superseded"));
}

/* NAME=FILE[,FILE...] */
static int parse_master(struct analysis *a, char *arg)
{
	char *eq = strchr(arg, '=');
	struct input *in;

	if (a->n == CONFLICT_MAX_MASTERS) {
		fprintf(stderr, "ringwatch analyze: at most %d masters\n", CONFLICT_MAX_MASTERS);
		return -1;
	}
	if (eq == NULL || eq == arg || eq[1] == '\0') {
		fprintf(stderr, "ringwatch analyze: --master takes NAME=FILE[,FILE...], not '%s'\n",
			arg);
		return -1;
	}
	in = &a->in[a->n];
	*eq = '\0';
	in->name = arg;
	for (char *f = strtok(eq + 1, ","); f != NULL; f = strtok(NULL, ",")) {
		char **grown = realloc(in->files, (in->n_files + 1) * sizeof(*grown));
		if (grown == NULL)
			return -1;
		in->files = grown;
		in->files[in->n_files++] = f;
	}
	a->names[a->n++] = in->name;
	return 0;
}

/* The server_id that wrote a binlog file: its FORMAT_DESCRIPTION's. */
static int writer_of(const char *path, uint32_t *server_id)
{
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	uint8_t buf[4096];
	binlog_event ev;
	rw_error err;
	size_t n;
	FILE *fp = fopen(path, "rb");
	int rc = -1;

	if (fp == NULL || r == NULL) {
		fprintf(stderr, "ringwatch analyze: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (rc < 0 && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (binlog_reader_feed(r, buf, n, &err) != 0)
			break;
		if (binlog_reader_next(r, &ev, &err) == 1) {
			*server_id = ev.hdr.server_id;
			rc = 0;
		}
	}
	if (rc < 0)
		fprintf(stderr, "ringwatch analyze: %s: no binlog event to tell its server\n",
			path);
out:
	if (fp != NULL)
		fclose(fp);
	binlog_reader_free(r);
	return rc;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* One master's files, read event by event. */
struct source {
	conflict_feed *feed;
	char **files;
	size_t n_files, next_file;
	const char *path;
	FILE *fp;
	binlog_reader *r;
	binlog_event ev; /* valid while has_ev, until the next read of this source */
	int has_ev;
	uint8_t buf[1 << 16];
};

static void source_close(struct source *s)
{
	if (s->fp != NULL)
		fclose(s->fp);
	binlog_reader_free(s->r);
	s->fp = NULL;
	s->r = NULL;
}

/* The next event of s into s->ev (has_ev 0 at the end); -1 after saying what is
 * wrong and where. */
static int source_next(struct source *s)
{
	rw_error err;
	size_t n;
	int rc;

	s->has_ev = 0;
	for (;;) {
		if (s->r != NULL) {
			rc = binlog_reader_next(s->r, &s->ev, &err);
			if (rc == 1) {
				s->has_ev = 1;
				return 0;
			}
			if (rc < 0)
				goto fail;
			n = fread(s->buf, 1, sizeof(s->buf), s->fp);
			if (n > 0) {
				if (binlog_reader_feed(s->r, s->buf, n, &err) != 0)
					goto fail;
				continue;
			}
			if (binlog_reader_finish(s->r, &err) != 0)
				goto fail;
			source_close(s);
		}
		if (s->next_file == s->n_files)
			return 0;
		s->path = s->files[s->next_file++];
		s->fp = fopen(s->path, "rb");
		s->r = binlog_reader_new(BINLOG_READER_FILE);
		if (s->fp == NULL || s->r == NULL) {
			fprintf(stderr, "ringwatch analyze: %s: %s\n", s->path, strerror(errno));
			source_close(s);
			return -1;
		}
		conflict_feed_set_file(s->feed, base_name(s->path));
	}
fail:
	fprintf(stderr, "ringwatch analyze: %s: offset %lld: %s\n", s->path, (long long)err.offset,
		err.text);
	source_close(s);
	return -1;
}

/* Events carry their server's second; 0 (made up by the server) goes first. */
static int64_t order_of(const struct source *s)
{
	return s->ev.hdr.timestamp == 0 ? -1 : (int64_t)s->ev.hdr.timestamp;
}

/*
 * Feed every master's events, always the earliest next one (by timestamp):
 * the streams advance together, as the daemon reads them live, so the
 * engine only ever holds the writes of the last moments, not a whole binlog.
 * Timestamps are whole seconds: among events of the same second the masters
 * take turns, one event each, or a busy second of one master would all go
 * before the other's copies of it and overflow the image rings.
 */
static int feed_all(struct source *src, unsigned n)
{
	rw_error err;
	unsigned last = n - 1;

	for (unsigned i = 0; i < n; i++) {
		if (source_next(&src[i]) != 0)
			return -1;
	}
	for (;;) {
		struct source *best = NULL;

		/* from the master after the one fed last, so that ties take turns */
		for (unsigned k = 1; k <= n; k++) {
			struct source *c = &src[(last + k) % n];

			if (c->has_ev && (best == NULL || order_of(c) < order_of(best)))
				best = c;
		}
		if (best == NULL)
			return 0;
		last = (unsigned)(best - src);
		if (conflict_feed_event(best->feed, &best->ev,
					(int64_t)best->ev.hdr.timestamp * 1000000, &err) != 0) {
			fprintf(stderr, "ringwatch analyze: %s: %s\n", best->path, err.text);
			return -1;
		}
		if (source_next(best) != 0)
			return -1;
	}
}

/* Rows of a table whose shape is not known: remembered per master and table. */
static void on_unknown(void *arg, const char *schema, const char *table, const char *why,
		       uint64_t rows)
{
	struct hook_arg *h = arg;
	struct analysis *a = h->a;
	struct unseen *u = NULL;

	a->unseen_rows += rows;
	for (size_t i = 0; i < a->n_unseen; i++) {
		if (a->unseen[i].master == h->master && strcmp(a->unseen[i].schema, schema) == 0 &&
		    strcmp(a->unseen[i].table, table) == 0)
			u = &a->unseen[i];
	}
	if (u == NULL) {
		if (rw_array_grow(&a->unseen, &a->cap_unseen, a->n_unseen, sizeof(*a->unseen), 8) <
		    0)
			return;
		u = &a->unseen[a->n_unseen++];
		memset(u, 0, sizeof(*u));
		u->master = h->master;
		u->schema = strdup(schema);
		u->table = strdup(table);
		u->why = strdup(why);
	}
	u->rows += rows;
}

static void on_ddl(void *arg, uint64_t pos, int kind, const char *sql, size_t len,
		   const char *error, const char *trx)
{
	struct hook_arg *h = arg;

	(void)pos;
	(void)trx;
	if (kind == DDL_UNPARSED)
		fprintf(stderr,
			"ringwatch analyze: %s: a DDL statement ringwatch cannot read (%s): %.*s\n",
			h->a->names[h->master], error != NULL ? error : "?",
			(int)(len > 200 ? 200 : len), sql);
}

/* The database a mysqldump names in its header ("-- Host: h    Database: app"). */
static void dump_database(const char *text, size_t len, char *db, size_t dlen)
{
	const char *end = text + (len > 4096 ? 4096 : len);
	const char *p = text;

	db[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *d = n > 3 && strncmp(p, "-- ", 3) == 0 ? strstr(p, "Database: ") : NULL;
		if (d != NULL && d < p + n) {
			d += strlen("Database: ");
			snprintf(db, dlen, "%.*s", (int)(p + n - d), d);
			db[strcspn(db, " \t\r")] = '\0';
			return;
		}
		p += n + 1;
	}
}

/* --schema FILE into the history of master m (all when -1). */
static int load_schema(struct analysis *a, struct source *src, const struct schema_file *sf)
{
	static const ddl_options opt = { false, 0 };
	FILE *fp = fopen(sf->path, "r");
	rw_buf text = RW_BUF_INIT;
	char db[SCHEMA_NAME_MAX];
	size_t unread = 0;
	rw_error err;
	int rc;

	if (fp == NULL) {
		fprintf(stderr, "ringwatch analyze: --schema %s: %s\n", sf->path, strerror(errno));
		return -1;
	}
	rc = cli_read_all(fp, &text);
	fclose(fp);
	if (rc != 0) {
		fprintf(stderr, "ringwatch analyze: --schema %s: %s\n", sf->path,
			text.failed ? "out of memory" : "cannot be read");
		rw_buf_free(&text);
		return -1;
	}
	dump_database(text.p != NULL ? text.p : "", text.len, db, sizeof(db));
	for (unsigned i = 0; i < a->n; i++) {
		if (sf->master >= 0 && (unsigned)sf->master != i)
			continue;
		if (schema_apply_script(conflict_feed_schema(src[i].feed),
					text.p != NULL ? text.p : "", text.len,
					db[0] != '\0' ? db : NULL, &opt, &unread, &err) != 0) {
			fprintf(stderr, "ringwatch analyze: --schema %s: %s\n", sf->path, err.text);
			rw_buf_free(&text);
			return -1;
		}
	}
	if (unread > 0)
		fprintf(stderr,
			"ringwatch analyze: --schema %s: %zu table statements could not be read; "
			"those tables stay unknown\n",
			sf->path, unread);
	rw_buf_free(&text);
	return 0;
}

/* Name each table whose rows were not compared, with the way to fix it. */
static void report_unseen(struct analysis *a)
{
	for (size_t i = 0; i < a->n_unseen; i++) {
		const struct unseen *u = &a->unseen[i];
		fprintf(
		    stderr,
		    "ringwatch analyze: %s: %llu row changes of %s.%s not compared: %s; give its "
		    "shape with --schema FILE (mysqldump --no-data or SHOW CREATE TABLE output) "
		    "or write binlogs with binlog_row_metadata=FULL\n",
		    a->names[u->master], (unsigned long long)u->rows, u->schema, u->table,
		    u->why != NULL ? u->why : "?");
	}
	if (a->unseen_rows > 0) {
		fprintf(stderr,
			"ringwatch analyze: %llu row changes were not compared; the report is "
			"incomplete\n",
			(unsigned long long)a->unseen_rows);
		a->incomplete = 1;
	}
}

static int run(struct analysis *a)
{
	conflict_config cfg;
	conflict_engine *e = NULL;
	rw_error err;
	int rc = 0;

	for (unsigned i = 0; i < a->n; i++) {
		if (writer_of(a->in[i].files[0], &a->in[i].server_id) != 0)
			return -1;
		for (unsigned j = 0; j < i; j++) {
			if (a->in[j].server_id == a->in[i].server_id) {
				fprintf(stderr,
					"ringwatch analyze: %s and %s were written by the same "
					"server (server_id %u)\n",
					a->in[j].name, a->in[i].name, a->in[i].server_id);
				return -1;
			}
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_masters = a->n;
	cfg.cb.conflict = on_conflict;
	cfg.cb.updated = on_updated;
	cfg.cb.resolved = on_resolved;
	cfg.cb.released = on_released;
	cfg.cb.arg = a;
	if (conflict_engine_new(&cfg, &e, &err) != 0) {
		fprintf(stderr, "ringwatch analyze: %s\n", err.text);
		return -1;
	}
	struct source *src = calloc(a->n, sizeof(*src));
	for (unsigned i = 0; src != NULL && i < a->n; i++) {
		src[i].feed = conflict_feed_new(e, i, origin_of, a, a->keys);
		src[i].files = a->in[i].files;
		src[i].n_files = a->in[i].n_files;
		if (src[i].feed == NULL) {
			rc = -1;
			continue;
		}
		a->hooks[i] = (struct hook_arg){ a, i };
		conflict_feed_set_schema_hooks(
		    src[i].feed,
		    &(conflict_schema_hooks){ NULL, on_unknown, on_ddl, NULL, &a->hooks[i], NULL });
	}
	for (unsigned k = 0; src != NULL && rc == 0 && k < a->n_schemas; k++)
		rc = load_schema(a, src, &a->schemas[k]);
	if (src == NULL || rc != 0 || feed_all(src, a->n) != 0)
		rc = -1;
	if (rc == 0)
		report_unseen(a);
	if (rc == 0) {
		conflict_stats st;
		conflict_engine_stats(e, &st);
		if (a->lost > 0 || st.dropped_writes > 0) {
			fprintf(
			    stderr,
			    "ringwatch analyze: the binlogs are far apart in time: %lu conflicts "
			    "lack row images no longer held, %llu writes were not compared; the "
			    "report is incomplete\n",
			    a->lost, (unsigned long long)st.dropped_writes);
			a->incomplete = 1;
		}
	}
	for (unsigned i = 0; src != NULL && i < a->n; i++) {
		source_close(&src[i]);
		conflict_feed_free(src[i].feed);
	}
	free(src);
	conflict_engine_free(e);
	return rc;
}

int cli_analyze(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "master", required_argument, NULL, 'm' },
		{ "schema", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *schema_args[2 * CONFLICT_MAX_MASTERS];
	unsigned n_schema_args = 0;
	struct analysis a;
	json_t *newest_first;
	int c, rc = 0;
	size_t i;

	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:s:", opts, NULL)) != -1) {
		if (c == 's' && n_schema_args < sizeof(schema_args) / sizeof(schema_args[0])) {
			schema_args[n_schema_args++] = optarg;
			continue;
		}
		if (c != 'm' || parse_master(&a, optarg) != 0) {
			rc = 2;
			goto out;
		}
	}
	if (a.n < 2 || optind != argc) {
		fprintf(stderr, "usage: ringwatch analyze --master NAME=FILE[,FILE...] --master "
				"NAME=FILE[,FILE...] ... [--schema [NAME=]FILE ...]\n");
		rc = 2;
		goto out;
	}
	for (unsigned k = 0; k < n_schema_args; k++) {
		const char *eq = strchr(schema_args[k], '=');
		struct schema_file *sf = &a.schemas[a.n_schemas++];
		sf->path = schema_args[k];
		sf->master = -1;
		for (unsigned m = 0; eq != NULL && m < a.n; m++) {
			if (strlen(a.names[m]) == (size_t)(eq - schema_args[k]) &&
			    strncmp(a.names[m], schema_args[k], (size_t)(eq - schema_args[k])) ==
				0) {
				sf->master = (int)m;
				sf->path = eq + 1;
			}
		}
		if (eq != NULL && sf->master < 0 && access(schema_args[k], R_OK) != 0) {
			fprintf(stderr, "ringwatch analyze: --schema %s: no master of that name\n",
				schema_args[k]);
			rc = 2;
			goto out;
		}
	}
	a.found = json_array();
	a.by_uid = json_object();
	a.by_row = json_object();
	a.keys = conflict_keys_new(1 << 16);
	if (a.keys == NULL || run(&a) != 0) {
		rc = 2;
		goto out;
	}
	if (a.incomplete)
		rc = 1;
	newest_first = json_array();
	for (i = json_array_size(a.found); i-- > 0;) {
		json_t *one = json_array_get(a.found, i);
		json_object_del(one, "_row");
		json_array_append(newest_first, one);
		if (json_is_true(json_object_get(one, "diverged")) &&
		    strcmp(json_string_value(json_object_get(one, "state")), "open") == 0)
			rc = 1;
	}
	{
		json_t *answer = json_pack("{s:o}", "conflicts", newest_first);
		json_dumpf(answer, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(answer);
	}
out:
	json_decref(a.found);
	json_decref(a.by_uid);
	json_decref(a.by_row);
	conflict_keys_free(a.keys);
	for (unsigned k = 0; k < a.n; k++)
		free(a.in[k].files);
	for (size_t k = 0; k < a.n_unseen; k++) {
		free(a.unseen[k].schema);
		free(a.unseen[k].table);
		free(a.unseen[k].why);
	}
	free(a.unseen);
	return rc;
}
