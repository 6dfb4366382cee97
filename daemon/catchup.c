/*
 * catchup.c - a master's stream against the master's own binlog end (see
 * catchup.h).
 */
#include "catchup.h"

#include "probe.h"
#include "stream.h"

#include "ringwatch/gtid_pos.h"

#include <stdlib.h>
#include <string.h>

#define MARKS       16   /* binlog ends not passed yet, per master */
#define SAMPLES     16   /* of the stream's byte counter, per master */
#define RATE_WINDOW 10.0 /* seconds: the read rate is over at most the last this many */
#define RATE_MIN    0.2  /* seconds: and at least this many */

/* A place in a master's binlog: the file's number (after its last '.'), the offset. */
struct place {
	uint64_t seq;
	uint64_t offset;
};

/* A binlog end a probe read at time at. */
struct mark {
	struct place end;
	double at;
};

struct sample {
	double at;
	uint64_t bytes;
};

/* One master's: marks oldest first (the oldest dropped when full), samples in a ring. */
struct catchup_master {
	struct mark marks[MARKS];
	size_t n_marks;
	struct sample samples[SAMPLES];
	size_t n_samples, next_sample;
};

struct catchup {
	size_t n;
	struct catchup_master m[];
};

/* The number after the last '.' of a binlog file's name; false when there is none. */
static bool file_seq(const char *file, uint64_t *seq)
{
	const char *dot = file != NULL ? strrchr(file, '.') : NULL;
	uint64_t v = 0;

	if (dot == NULL || dot[1] < '0' || dot[1] > '9')
		return false;
	for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*seq = v;
	return true;
}

static int place_cmp(struct place a, struct place b)
{
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return a.offset < b.offset ? -1 : a.offset > b.offset;
}

int64_t catchup_bytes_behind(const struct probe_binlog *binlogs, size_t n, const char *file,
			     uint64_t offset)
{
	uint64_t seq, total = 0;

	if (n == 0 || file == NULL || file[0] == '\0')
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(binlogs[i].name, file) == 0) {
			total = binlogs[i].size > offset ? binlogs[i].size - offset : 0;
			for (size_t k = i + 1; k < n; k++)
				total += binlogs[k].size;
			return (int64_t)(total > INT64_MAX ? INT64_MAX : total);
		}
	}
	if (!file_seq(file, &seq))
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t s;
		if (file_seq(binlogs[i].name, &s) && s > seq)
			total += binlogs[i].size;
	}
	return (int64_t)(total > INT64_MAX ? INT64_MAX : total);
}

int64_t catchup_trx_behind(const char *master_gtid, const char *stream_gtid)
{
	gtid_pos mp, sp;
	rw_error err;
	int64_t behind = -1;

	if (master_gtid == NULL || stream_gtid == NULL ||
	    gtid_pos_parse(master_gtid, &mp, &err) != 0 ||
	    gtid_pos_parse(stream_gtid, &sp, &err) != 0)
		return -1;
	for (size_t i = 0; i < mp.n; i++) {
		const gtid_pos_entry *s = gtid_pos_get(&sp, mp.e[i].domain);
		if (s == NULL)
			continue;
		if (behind < 0)
			behind = 0;
		if (mp.e[i].seq > s->seq && mp.e[i].seq - s->seq < (uint64_t)(INT64_MAX - behind))
			behind += (int64_t)(mp.e[i].seq - s->seq);
	}
	return behind;
}

bool catchup_rule(int64_t bytes, int64_t transactions, double behind_for, double probe_interval)
{
	double patience =
	    2 * probe_interval > CATCHUP_PATIENCE ? 2 * probe_interval : CATCHUP_PATIENCE;

	if (bytes == 0)
		return false; /* it passed the end: caught up as of when the end was read */
	return bytes > CATCHUP_BYTES || transactions > CATCHUP_TRANSACTIONS ||
	       behind_for > patience;
}

struct catchup *catchup_new(size_t n)
{
	struct catchup *c = calloc(1, sizeof(*c) + n * sizeof(c->m[0]));

	if (c != NULL)
		c->n = n;
	return c;
}

void catchup_free(struct catchup *c)
{
	free(c);
}

/* Where the stream is; false when it has no position yet. */
static bool stream_place(const struct stream_view *v, struct place *out)
{
	out->offset = v->offset;
	return file_seq(v->file, &out->seq);
}

/* Where r says the master's binlog ended; false when it did not list the binlogs. */
static bool end_place(const struct probe_result *r, struct place *out)
{
	if (r == NULL || !r->ok || !r->binlogs_known || r->n_binlogs == 0)
		return false;
	out->offset = r->binlogs[r->n_binlogs - 1].size;
	return file_seq(r->binlogs[r->n_binlogs - 1].name, &out->seq);
}

static void add_mark(struct catchup_master *cm, struct place end, double at)
{
	if (cm->n_marks > 0) {
		int cmp = place_cmp(end, cm->marks[cm->n_marks - 1].end);
		if (cmp == 0)
			return; /* no new write: the older time is when this end was there first */
		if (cmp < 0)
			cm->n_marks = 0; /* the binlog went back (RESET MASTER): start again */
	}
	if (cm->n_marks == MARKS) {
		/* the oldest goes: how long the stream has been behind stays over the
		 * rule's patience (MARKS rounds), which is what matters */
		memmove(cm->marks, cm->marks + 1, (MARKS - 1) * sizeof(cm->marks[0]));
		cm->n_marks--;
	}
	cm->marks[cm->n_marks++] = (struct mark){ end, at };
}

/* Drop the marks the stream at p has passed. */
static void drop_passed(struct catchup_master *cm, struct place p)
{
	size_t k = 0;

	while (k < cm->n_marks && place_cmp(cm->marks[k].end, p) <= 0)
		k++;
	memmove(cm->marks, cm->marks + k, (cm->n_marks - k) * sizeof(cm->marks[0]));
	cm->n_marks -= k;
}

void catchup_observe(struct catchup *c, size_t m, const struct probe_result *r,
		     const struct stream_view *v, double now)
{
	struct catchup_master *cm;
	struct place end, at;

	if (m >= c->n)
		return;
	cm = &c->m[m];
	if (end_place(r, &end))
		add_mark(cm, end, r->binlogs_at);
	if (stream_place(v, &at))
		drop_passed(cm, at);
	cm->samples[cm->next_sample] = (struct sample){ now, v->bytes_total };
	cm->next_sample = (cm->next_sample + 1) % SAMPLES;
	if (cm->n_samples < SAMPLES)
		cm->n_samples++;
}

/* Bytes a second the stream read lately (bytes_total by now); -1 unknown. */
static double read_rate(const struct catchup_master *cm, uint64_t bytes_total, double now)
{
	const struct sample *from = NULL;

	for (size_t i = 0; i < cm->n_samples; i++) {
		const struct sample *s = &cm->samples[i];
		if (now - s->at <= RATE_WINDOW && (from == NULL || s->at < from->at))
			from = s;
	}
	if (from == NULL || now - from->at < RATE_MIN || bytes_total < from->bytes)
		return -1;
	return (double)(bytes_total - from->bytes) / (now - from->at);
}

/* Since when the stream at p has not passed a binlog end a probe read; -1 it has. */
static double behind_since(const struct catchup_master *cm, struct place p)
{
	for (size_t k = 0; k < cm->n_marks; k++) {
		if (place_cmp(cm->marks[k].end, p) > 0)
			return cm->marks[k].at;
	}
	return -1;
}

/* The master's side: where its binlog ended at round r; false (with why) when unknown. */
static bool judge_end(const struct probe_result *r, const char *master_gtid, struct place *end,
		      struct catchup_verdict *out)
{
	if (r == NULL)
		out->end_unknown = "no probe round has worked yet";
	else if (!r->binlogs_known)
		out->end_unknown = r->binlogs_error;
	else if (!end_place(r, end))
		out->end_unknown = "the master's binlog file has no number";
	if (out->end_unknown != NULL)
		return false;
	out->end_file = r->binlogs[r->n_binlogs - 1].name;
	out->end_offset = end->offset;
	out->end_gtid = master_gtid != NULL ? master_gtid : "";
	return true;
}

void catchup_judge(const struct catchup *c, size_t m, const struct probe_result *r,
		   const char *master_gtid, const struct stream_view *v, double now,
		   double probe_interval, struct catchup_verdict *out)
{
	const struct catchup_master *cm = m < c->n ? &c->m[m] : NULL;
	struct place at, end;
	double since, rate;

	memset(out, 0, sizeof(*out));
	out->end_file = out->end_gtid = "";
	out->bytes = out->transactions = -1;
	out->seconds = -1;
	if (!judge_end(r, master_gtid, &end, out))
		out->unknown = out->end_unknown;
	else if (cm == NULL)
		out->unknown = "no such master";
	else if (!v->connected || !stream_place(v, &at))
		out->unknown = "the stream is not reading";
	else if ((out->bytes = catchup_bytes_behind(r->binlogs, r->n_binlogs, v->file, v->offset)) <
		 0)
		out->unknown = "the stream's binlog file has no number";
	if (out->unknown != NULL)
		return;
	out->known = true;
	out->transactions = catchup_trx_behind(master_gtid, v->gtid);
	since = behind_since(cm, at);
	if (since < 0 && place_cmp(at, end) < 0)
		since = r->binlogs_at; /* a round not observed (never, from the loop) */
	out->behind_for = since >= 0 && now > since ? now - since : 0;
	rate = read_rate(cm, v->bytes_total, now);
	if (rate > 0)
		out->seconds = (double)out->bytes / rate;
	out->catching_up =
	    catchup_rule(out->bytes, out->transactions, out->behind_for, probe_interval);
}
