/*
 * probe_ring.c - runs the SQL probes of every master of a configuration and
 * shows what they deliver, for tests/integration/probe.sh.
 *
 *     probe_ring CONFIG OUTDIR [INTERVAL]
 *
 * Each letter received on the event loop replaces OUTDIR/NAME.txt (written
 * aside, then renamed: a reader never sees half a file) with "key=value"
 * lines: the round, ok and error, the variables as var.NAME, the oldest
 * transaction's age, and per link link.CONNECTION.FIELD.  Every letter also
 * adds one summary line to OUTDIR/rounds.log.
 *
 * A PROBE_SCHEMA letter replaces NAME.schema (its SQL, or its error),
 * NAME.shapes (each table as schema_apply_script() reads the SQL back, one
 * "schema.table: shape" line each, see write_shape()) and, last,
 * NAME.schema.info ("key=value": seq, the positions, the version ...).
 * SIGUSR1 asks every probe for the tables again (probe_refresh_schema()).
 *
 * SIGTERM or SIGINT stops the probes the way ringwatchd does (stop, close
 * the mailbox, join) and exits 0.
 */
#include "../../daemon/config.h"
#include "../../daemon/mailbox.h"
#include "../../daemon/probe.h"

#include "ringwatch/schema_history.h"

#include <event2/event.h>
#include <inttypes.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct watcher {
	struct config cfg;
	const char *outdir;
	struct event_base *base;
	struct mailbox *mb;
	struct probe **probes;
	unsigned long letters;
	unsigned long *schemas; /* PROBE_SCHEMA letters per master */
};

/* Write path through a temporary file and a rename, with fn filling it. */
static void write_file(const char *path, void (*fn)(FILE *, const void *), const void *arg)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fn(f, arg);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void write_link(FILE *f, const struct probe_link *l)
{
	const char *c = l->connection_name;
	unsigned code = 0;
	const char *msg = "";

	probe_link_last_error(l, &code, &msg);
	fprintf(f, "link.%s.source=%s:%u\n", c, l->source_host, l->source_port);
	fprintf(f, "link.%s.source_server_id=%" PRIu32 "\n", c, l->source_server_id);
	fprintf(f, "link.%s.io=%s\nlink.%s.sql=%s\n", c, l->io_state, c, l->sql_state);
	if (l->seconds_behind_known)
		fprintf(f, "link.%s.sbm=%" PRId64 "\n", c, l->seconds_behind_master);
	else
		fprintf(f, "link.%s.sbm=NULL\n", c);
	fprintf(f, "link.%s.state=%s\n", c, probe_link_state(l, 5));
	fprintf(f, "link.%s.error_code=%u\nlink.%s.error=%s\n", c, code, c, msg);
	fprintf(f, "link.%s.gtid_io_pos=%s\nlink.%s.using_gtid=%s\n", c, l->gtid_io_pos, c,
		l->using_gtid);
	fprintf(f, "link.%s.exec=%s:%" PRIu64 "\n", c, l->relay_master_log_file,
		l->exec_master_log_pos);
}

static void write_result(FILE *f, const struct probe_result *r)
{
	fprintf(f, "round=%" PRIu64 "\ngeneration=%" PRIu32 "\n", r->round, r->generation);
	fprintf(f, "ok=%d\nerr_code=%u\nerror=%s\n", r->ok, r->err_code, r->error);
	fprintf(f, "connects=%u\nduration_ok=%d\n", r->connects,
		r->duration >= 0 && r->duration < 30);
	fprintf(f, "mariadb=%d\nversion=%s\n", r->is_mariadb, r->version);
	fprintf(f, "trx_known=%d\ntrx_age=%.0f\ntrx_error=%s\n", r->trx_age_known, r->trx_age,
		r->trx_error);
	fprintf(f, "links=%zu\n", r->n_links);
	fprintf(f, "binlogs_known=%d\nbinlogs_error=%s\nbinlogs=%zu\n", r->binlogs_known,
		r->binlogs_error, r->n_binlogs);
	if (r->n_binlogs > 0)
		fprintf(f, "binlog_end=%s:%" PRIu64 "\n", r->binlogs[r->n_binlogs - 1].name,
			r->binlogs[r->n_binlogs - 1].size);
	for (size_t i = 0; i < r->n_vars; i++)
		fprintf(f, "var.%s=%s\n", r->vars[i].name, r->vars[i].value);
	for (size_t i = 0; i < r->n_links; i++)
		write_link(f, &r->links[i]);
}

/*
 * A table as "a!,b~,c* | key a | unique b;c,d | versioned": its columns
 * (! NOT NULL, ~ invisible, * generated), the key's columns, the other
 * unique keys; or "unknown: why".
 */
static void write_shape(const char *schema, const char *table, const schema_table *t,
			const char *why, void *arg)
{
	FILE *f = arg;

	fprintf(f, "%s.%s: ", schema, table);
	if (t == NULL) {
		fprintf(f, "unknown: %s\n", why);
		return;
	}
	for (uint32_t i = 0; i < t->ncols; i++)
		fprintf(f, "%s%s%s%s%s", i ? "," : "", t->cols[i].name,
			t->cols[i].nullable ? "" : "!", t->cols[i].invisible ? "~" : "",
			t->cols[i].generated ? "*" : "");
	fprintf(f, " | key ");
	for (uint32_t k = 0; k < t->n_key; k++)
		fprintf(f, "%s%s", k ? "," : "", t->cols[t->key[k]].name);
	fprintf(f, " | unique ");
	for (uint32_t u = 0; u < t->n_unique; u++)
		for (uint32_t k = 0; k < t->unique_len[u]; k++)
			fprintf(f, "%s%s", k ? "," : u ? ";" : "", t->cols[t->unique[u][k]].name);
	fprintf(f, "%s\n", t->versioned ? " | versioned" : "");
}

struct schema_out {
	const struct probe_schema *s;
	unsigned long seq;
	schema_db *db;
	size_t unreadable;
};

static void put_sql(FILE *f, const void *arg)
{
	const struct probe_schema *s = ((const struct schema_out *)arg)->s;

	fputs(s->ok ? s->text : s->error, f);
}

static void put_shapes(FILE *f, const void *arg)
{
	const struct schema_out *o = arg;

	if (o->db != NULL)
		schema_db_each(o->db, write_shape, f);
}

static void put_info(FILE *f, const void *arg)
{
	const struct schema_out *o = arg;
	const struct probe_schema *s = o->s;
	int c = strcmp(s->p1_file, s->p2_file);

	fprintf(f, "seq=%lu\nok=%d\nerror=%s\n", o->seq, s->ok, s->error);
	fprintf(f, "mariadb=%d\nversion=%" PRIu32 "\n", s->is_mariadb, s->version);
	fprintf(f, "tables=%zu\nparsed=%d\nunreadable=%zu\n", s->n_tables, o->db != NULL,
		o->unreadable);
	fprintf(f, "has_positions=%d\npositions_error=%s\n", s->has_positions, s->positions_error);
	fprintf(f, "p1=%s:%" PRIu64 "\np2=%s:%" PRIu64 "\n", s->p1_file, s->p1_offset, s->p2_file,
		s->p2_offset);
	fprintf(f, "positions_ordered=%d\n",
		s->has_positions && (c < 0 || (c == 0 && s->p1_offset <= s->p2_offset)));
	fprintf(f, "gtid_pos=%s\n", s->gtid_pos);
}

/* The tables a probe read, and how the DDL parser reads them back. */
static void deliver_schema(struct watcher *w, struct probe_schema *s)
{
	const char *name = w->cfg.masters[s->master_index].name;
	struct schema_out o = { s, ++w->schemas[s->master_index], NULL, 0 };
	ddl_options opt = { s->is_mariadb, s->version };
	char path[4096];
	rw_error err;

	if (s->ok && (o.db = schema_db_new()) != NULL &&
	    schema_apply_script(o.db, s->text, s->len, NULL, &opt, &o.unreadable, &err) != 0) {
		schema_db_free(o.db);
		o.db = NULL;
	}
	snprintf(path, sizeof(path), "%s/%s.schema", w->outdir, name);
	write_file(path, put_sql, &o);
	snprintf(path, sizeof(path), "%s/%s.shapes", w->outdir, name);
	write_file(path, put_shapes, &o);
	snprintf(path, sizeof(path), "%s/%s.schema.info", w->outdir, name);
	write_file(path, put_info, &o);
	schema_db_free(o.db);
	free(s);
}

static void deliver(void *ctx, struct mail *m)
{
	struct watcher *w = ctx;
	struct probe_result *r = (struct probe_result *)m;
	const char *name;
	char path[4096], tmp[4200];
	FILE *f;

	if (m->kind == PROBE_SCHEMA) {
		deliver_schema(w, (struct probe_schema *)m);
		return;
	}
	name = w->cfg.masters[r->master_index].name;
	w->letters++;
	snprintf(path, sizeof(path), "%s/%s.txt", w->outdir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (m->kind == PROBE_RESULT && (f = fopen(tmp, "w")) != NULL) {
		write_result(f, r);
		if (fclose(f) == 0)
			rename(tmp, path);
	}
	snprintf(path, sizeof(path), "%s/rounds.log", w->outdir);
	if ((f = fopen(path, "a")) != NULL) {
		fprintf(f, "%s round=%" PRIu64 " ok=%d links=%zu vars=%zu size=%zu error=%s\n",
			name, r->round, r->ok, r->n_links, r->n_vars, r->hdr.size, r->error);
		fclose(f);
	}
	probe_result_free(r);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct watcher *w = arg;

	(void)what;
	if (sig != SIGUSR1) {
		event_base_loopbreak(w->base);
		return;
	}
	for (size_t i = 0; i < w->cfg.n_masters; i++) {
		if (w->probes[i] != NULL)
			probe_refresh_schema(w->probes[i]);
	}
}

static int run(struct watcher *w, double interval)
{
	struct event *term = evsignal_new(w->base, SIGTERM, on_signal, w);
	struct event *intr = evsignal_new(w->base, SIGINT, on_signal, w);
	struct event *usr1 = evsignal_new(w->base, SIGUSR1, on_signal, w);
	char err[256];
	int rc = 0;

	event_add(term, NULL);
	event_add(intr, NULL);
	event_add(usr1, NULL);
	for (size_t i = 0; i < w->cfg.n_masters; i++) {
		w->probes[i] =
		    probe_start(&w->cfg.masters[i], i, interval, w->mb, 1, err, sizeof(err));
		if (w->probes[i] == NULL) {
			fprintf(stderr, "probe_ring: %s: %s\n", w->cfg.masters[i].name, err);
			rc = 1;
		}
	}
	if (rc == 0)
		event_base_dispatch(w->base);
	/* the daemon's order: stop every thread, unblock posters, join */
	for (size_t i = 0; i < w->cfg.n_masters; i++) {
		if (w->probes[i] != NULL)
			probe_stop(w->probes[i]);
	}
	mailbox_close(w->mb);
	for (size_t i = 0; i < w->cfg.n_masters; i++) {
		if (w->probes[i] != NULL)
			probe_join(w->probes[i]);
	}
	event_free(term);
	event_free(intr);
	event_free(usr1);
	return rc;
}

int main(int argc, char **argv)
{
	struct watcher w;
	struct config_error cerr;
	int rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: probe_ring CONFIG OUTDIR [INTERVAL]\n");
		return 2;
	}
	memset(&w, 0, sizeof(w));
	w.outdir = argv[2];
	if (config_load(argv[1], &w.cfg, &cerr) != 0) {
		fprintf(stderr, "probe_ring: %s\n", cerr.message);
		return 2;
	}
	mysql_library_init(0, NULL, NULL); /* before any thread uses the library */
	w.base = event_base_new();
	w.mb = mailbox_new(w.base, 1 << 20, deliver, &w);
	w.probes = calloc(w.cfg.n_masters, sizeof(*w.probes));
	w.schemas = calloc(w.cfg.n_masters, sizeof(*w.schemas));
	if (w.base == NULL || w.mb == NULL || w.probes == NULL || w.schemas == NULL)
		return 1;
	rc = run(&w, argc == 4 ? strtod(argv[3], NULL) : w.cfg.probe_interval);
	fprintf(stderr, "probe_ring: stopped after %lu letters\n", w.letters);
	mailbox_free(w.mb);
	event_base_free(w.base);
	free(w.probes);
	free(w.schemas);
	config_free(&w.cfg);
	mysql_library_end();
	return rc;
}
