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
 * adds one summary line to OUTDIR/rounds.log.  SIGTERM or SIGINT stops the
 * probes the way ringwatchd does (stop, close the mailbox, join) and exits 0.
 */
#include "../../daemon/config.h"
#include "../../daemon/mailbox.h"
#include "../../daemon/probe.h"

#include <event2/event.h>
#include <inttypes.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct watcher {
	struct rw_config cfg;
	const char *outdir;
	struct event_base *base;
	struct mailbox *mb;
	struct probe **probes;
	unsigned long letters;
};

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
	for (size_t i = 0; i < r->n_vars; i++)
		fprintf(f, "var.%s=%s\n", r->vars[i].name, r->vars[i].value);
	for (size_t i = 0; i < r->n_links; i++)
		write_link(f, &r->links[i]);
}

/* The tables a probe read: NAME.schema holds the letter's text. */
static void deliver_schema(struct watcher *w, struct probe_schema *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.schema", w->outdir,
		 w->cfg.masters[s->master_index].name);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%s", s->ok ? s->text : s->error);
		fclose(f);
	}
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

	(void)sig;
	(void)what;
	event_base_loopbreak(w->base);
}

static int run(struct watcher *w, double interval)
{
	struct event *term = evsignal_new(w->base, SIGTERM, on_signal, w);
	struct event *intr = evsignal_new(w->base, SIGINT, on_signal, w);
	char err[256];
	int rc = 0;

	event_add(term, NULL);
	event_add(intr, NULL);
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
	if (w.base == NULL || w.mb == NULL || w.probes == NULL)
		return 1;
	rc = run(&w, argc == 4 ? strtod(argv[3], NULL) : w.cfg.probe_interval);
	fprintf(stderr, "probe_ring: stopped after %lu letters\n", w.letters);
	mailbox_free(w.mb);
	event_base_free(w.base);
	free(w.probes);
	config_free(&w.cfg);
	mysql_library_end();
	return rc;
}
