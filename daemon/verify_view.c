/*
 * verify_view.c - how verification goes (struct verify_view) as the
 * "verify" object of /v1/status and GET /v1/verify, and as metrics.  Both
 * read the view and nothing else.
 */
#include "verify.h"

#include "common/time_text.h"

#include <stdio.h>

static json_t *when(double t)
{
	char buf[32];

	if (t <= 0)
		return json_null();
	time_text(t, buf);
	return json_string(buf);
}

static json_t *or_null(double v)
{
	return v >= 0 ? json_real(v) : json_null();
}

json_t *verify_view_json(const struct verify_view *vv)
{
	json_t *skipped = json_array();
	json_t *o;

	for (size_t i = 0; i < vv->n_skipped; i++)
		json_array_append_new(skipped, json_pack("{s:s,s:s}", "table", vv->skipped[i].table,
							 "reason", vv->skipped[i].reason));
	o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "state", vv->state, "job",
		      vv->job > 0 ? json_integer(vv->job) : json_null(), "started_at",
		      when(vv->started_at), "ended_at", when(vv->ended_at), "table",
		      vv->table[0] ? json_string(vv->table) : json_null(), "paused",
		      vv->paused[0] ? json_string(vv->paused) : json_null(), "error",
		      vv->error[0] ? json_string(vv->error) : json_null());
	json_object_set_new(o, "tables_total", json_integer((json_int_t)vv->tables_total));
	json_object_set_new(o, "tables_done", json_integer((json_int_t)vv->tables_done));
	json_object_set_new(o, "skipped", skipped);
	json_object_set_new(o, "chunks",
			    json_pack("{s:I,s:I,s:I}", "equal", (json_int_t)vv->chunks_equal,
				      "different", (json_int_t)vv->chunks_different, "unsure",
				      (json_int_t)vv->chunks_unsure));
	json_object_set_new(o, "rows", json_integer((json_int_t)vv->rows));
	json_object_set_new(o, "different_rows", json_integer((json_int_t)vv->drift_rows));
	json_object_set_new(o, "not_verified_chunks", json_integer((json_int_t)vv->not_verified));
	json_object_set_new(o, "rows_per_second", or_null(vv->rows_per_second));
	json_object_set_new(o, "eta_seconds", or_null(vv->eta_seconds));
	return o;
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void verify_view_metrics(const struct verify_view *vv, FILE *out)
{
	family(out, "ringwatch_verify_running", "gauge", "1 while a verification job runs.");
	fprintf(out, "ringwatch_verify_running %d\n", vv->running ? 1 : 0);
	family(out, "ringwatch_verify_paused", "gauge",
	       "1 while the running verification waits (lag, links, streams or max_load).");
	fprintf(out, "ringwatch_verify_paused %d\n", vv->waiting ? 1 : 0);
	family(out, "ringwatch_verify_rows_total", "counter",
	       "Rows verification read on the first master, since ringwatchd started.");
	fprintf(out, "ringwatch_verify_rows_total %llu\n", (unsigned long long)vv->total_rows);
	family(out, "ringwatch_verify_chunks_total", "counter",
	       "Chunks verification read, by their verdict, since ringwatchd started.");
	fprintf(out, "ringwatch_verify_chunks_total{result=\"equal\"} %llu\n",
		(unsigned long long)vv->total_equal);
	fprintf(out, "ringwatch_verify_chunks_total{result=\"different\"} %llu\n",
		(unsigned long long)vv->total_different);
	fprintf(out, "ringwatch_verify_chunks_total{result=\"unsure\"} %llu\n",
		(unsigned long long)vv->total_unsure);
	family(out, "ringwatch_verify_drift_rows_total", "counter",
	       "Rows verification found different with no write to explain it (drift records), "
	       "since ringwatchd started.");
	fprintf(out, "ringwatch_verify_drift_rows_total %llu\n",
		(unsigned long long)vv->total_drift);
	if (vv->eta_seconds >= 0) {
		family(out, "ringwatch_verify_eta_seconds", "gauge",
		       "Estimated seconds left of the running verification, in seconds.");
		fprintf(out, "ringwatch_verify_eta_seconds %.3f\n", vv->eta_seconds);
	}
}
