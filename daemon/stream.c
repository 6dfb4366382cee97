/*
 * stream.c - following one master's binlog (see stream.h).
 */
#include "stream.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "mailbox.h"
#include "replica.h"
#include "state.h"

#include "ringwatch/binlog_reader.h"
#include "ringwatch/conflict_feed.h"
#include "ringwatch/binlog_trx.h"
#include "ringwatch/schema.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAILBOX_BYTES    ((size_t)4 << 20) /* raw events waiting for the loop */
#define BACKOFF_MIN      0.5
#define BACKOFF_MAX      30.0
#define STABLE_AFTER     5.0 /* a connection this old resets the backoff */
#define HEARTBEAT_PERIOD 1.0
#define CHECKPOINT_EVERY 1.0
#define HOLD_MAX         ((size_t)64 << 20) /* events held while the sink is not ready */

struct stream {
	struct event_base *base;
	size_t index;
	const struct config_master *m;
	uint32_t replica_server_id;
	struct state *st;
	struct stream_sink sink;

	enum stream_state state;
	bool blocked; /* stopped by a configuration retrying cannot fix, until it changes */
	struct mailbox *mb;
	struct replica *replica;
	uint32_t generation;
	struct event *retry;
	double backoff;
	double connected_at;
	binlog_reader *reader;
	binlog_trx trx;

	/* what the master said about itself */
	uint32_t server_id;
	char version[64];
	char tls_cipher[64];
	bool is_mariadb;

	/* where the next event starts */
	char file[256];
	uint64_t offset;

	/* after the last complete transaction: the checkpoint */
	char commit_file[256];
	uint64_t commit_offset;
	gtid_pos commit_gtid;
	char commit_gtid_text[GTID_POS_TEXT_MAX];
	bool have_commit;
	bool dirty;
	double last_save;
	bool resumed; /* the current connection resumed from a saved position */
	bool by_file; /* the next connection starts at commit_file/commit_offset */
	/*
	 * Started before its own checkpoint (stream_start_from()): every
	 * connection resumes by file and offset until the stream passes that
	 * checkpoint (replay_until, a conflict_feed_position()), because the
	 * GTID position read with it is ahead of what was replayed so far.
	 */
	bool replaying;
	uint64_t replay_until;
	char resumed_from[512];

	uint64_t events, bytes, transactions, reconnects;
	double last_event_mono;
	double last_event_wall;
	double last_event_ts;
	char last_error[512];
	unsigned last_errno;
	unsigned repeats; /* the same failure again in a row */

	bool gap_open;
	struct gap gap;

	struct mail *held; /* events received before the sink was ready, in order */
	struct mail *held_tail;
	size_t held_bytes;
	bool sink_held;      /* the sink refused an event: hold from it until stream_resume() */
	binlog_reader *peek; /* reads what is held, for the sink's held() */
	bool admit_all;      /* the event goes to the sink without asking */
	uint64_t shapes_tag; /* of the shapes the replica thread has (0: none) */
};

/* The one place a stream's state changes; says so once. */
static void set_state(struct stream *s, enum stream_state to, const char *why)
{
	enum stream_state from = s->state;
	int level = LOG_INFO;

	if (from == to)
		return;
	s->state = to;
	if (to == STREAM_BACKOFF && s->repeats > 0)
		level = LOG_DEBUG; /* the same failure again: said already */
	else if (to == STREAM_BACKOFF)
		level = LOG_WARNING;
	log_msg(level, "master %s: %s -> %s%s%s", s->m->name, stream_state_name(from),
		stream_state_name(to), why != NULL ? ": " : "", why != NULL ? why : "");
}

/* ---- checkpoints ------------------------------------------------------------ */

static void save_checkpoint(struct stream *s, bool force)
{
	struct checkpoint cp;
	double now = clock_mono();

	if (s->st == NULL || !s->dirty || (!force && now - s->last_save < CHECKPOINT_EVERY))
		return;
	memset(&cp, 0, sizeof(cp));
	cp.server_id = s->server_id;
	snprintf(cp.gtid, sizeof(cp.gtid), "%s", s->commit_gtid_text);
	snprintf(cp.file, sizeof(cp.file), "%s", s->commit_file);
	cp.offset = s->commit_offset;
	cp.saved_at = clock_wall();
	if (state_checkpoint_save(s->st, s->m->name, &cp) != 0) {
		log_error("master %s: saving the checkpoint: %s", s->m->name, state_error(s->st));
		return;
	}
	s->dirty = false;
	s->last_save = now;
}

static void load_checkpoint(struct stream *s)
{
	struct checkpoint cp;
	rw_error err;
	int rc;

	if (s->st == NULL)
		return;
	rc = state_checkpoint_load(s->st, s->m->name, &cp);
	if (rc < 0) {
		log_error("master %s: reading the checkpoint: %s", s->m->name, state_error(s->st));
		return;
	}
	if (rc == 1)
		return;
	if (gtid_pos_parse(cp.gtid, &s->commit_gtid, &err) != 0) {
		log_error("master %s: checkpoint GTID '%s' unreadable (%s); using file %s:%llu",
			  s->m->name, cp.gtid, err.text, cp.file, (unsigned long long)cp.offset);
		gtid_pos_clear(&s->commit_gtid);
	}
	snprintf(s->commit_file, sizeof(s->commit_file), "%s", cp.file);
	s->commit_offset = cp.offset;
	if (gtid_pos_format(&s->commit_gtid, s->commit_gtid_text, sizeof(s->commit_gtid_text)) < 0)
		s->commit_gtid_text[0] = '\0';
	s->server_id = cp.server_id;
	s->have_commit = true;
}

static void load_gap(struct stream *s)
{
	if (s->st != NULL && state_gap_open(s->st, s->m->name, &s->gap) == 0)
		s->gap_open = true;
}

/* ---- connecting --------------------------------------------------------------- */

/* The replica thread's shapes for its row batches, when the sink's have changed. */
static void publish_shapes(struct stream *s)
{
	uint64_t tag = s->shapes_tag;
	schema_db *db;

	if (s->replica == NULL || s->sink.shapes == NULL ||
	    (db = s->sink.shapes(s->sink.ctx, s->index, &tag)) == NULL)
		return;
	replica_set_shapes(s->replica, db, tag);
	s->shapes_tag = tag;
}

static void connect_now(struct stream *s)
{
	struct replica_args args;
	char err[256];

	memset(&args, 0, sizeof(args));
	args.generation = ++s->generation;
	args.replica_server_id = s->replica_server_id;
	args.heartbeat_period = HEARTBEAT_PERIOD;
	args.max_rows = CONFLICT_FEED_MAX_ROWS;
	s->resumed = s->have_commit;
	if (s->by_file || s->replaying) {
		s->by_file = false;
		args.file = s->commit_file;
		args.offset = s->commit_offset;
		snprintf(s->resumed_from, sizeof(s->resumed_from),
			 "%s:%llu (the conflict engine's mark)", s->commit_file,
			 (unsigned long long)s->commit_offset);
	} else if (s->have_commit && s->commit_gtid.n > 0) {
		/* GTID positions survive binlog rotation and purging of older files */
		args.gtid_state = s->commit_gtid_text;
		args.file = "";
		args.offset = 4;
		snprintf(s->resumed_from, sizeof(s->resumed_from), "GTID %.500s",
			 s->commit_gtid_text);
	} else if (s->have_commit && s->commit_file[0] != '\0') {
		args.file = s->commit_file;
		args.offset = s->commit_offset;
		snprintf(s->resumed_from, sizeof(s->resumed_from), "%s:%llu", s->commit_file,
			 (unsigned long long)s->commit_offset);
	} else {
		args.file = ""; /* the oldest binlog the master has */
		args.offset = 4;
		snprintf(s->resumed_from, sizeof(s->resumed_from), "the oldest binlog");
	}
	set_state(s, STREAM_CONNECTING, NULL);
	s->replica = replica_start(s->m, &args, s->mb, err, sizeof(err));
	if (s->replica == NULL) {
		log_error("master %s: %s", s->m->name, err);
		set_state(s, STREAM_BACKOFF, err);
		event_add(s->retry, &(struct timeval){ .tv_sec = (time_t)BACKOFF_MAX });
		return;
	}
	s->shapes_tag = 0;
	publish_shapes(s);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	s->reconnects++;
	connect_now(s);
}

static void schedule_retry(struct stream *s)
{
	/* full jitter over [backoff/2, backoff*1.5): masters restarted together
	 * are not hit by every ringwatchd in the same instant */
	double delay = s->backoff * (0.5 + (double)rand() / ((double)RAND_MAX + 1.0));
	struct timeval tv;

	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	event_add(s->retry, &tv);
	s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
}

/* ---- letters from the replica thread ------------------------------------------ */

static void on_connected(struct stream *s, const struct replica_hello *h)
{
	char why[1024];

	s->server_id = h->server_id;
	snprintf(s->version, sizeof(s->version), "%s", h->version);
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", h->tls_cipher);
	s->is_mariadb = h->is_mariadb;
	s->connected_at = clock_mono();
	binlog_reader_free(s->reader);
	s->reader = binlog_reader_new(BINLOG_READER_STREAM);
	binlog_trx_init(&s->trx);
	if (s->sink.reset != NULL)
		s->sink.reset(s->sink.ctx, s->index);
	snprintf(why, sizeof(why), "server_id %u, %s, %s%s, from %s", h->server_id, h->version,
		 h->tls_cipher[0] ? "TLS " : "no TLS", h->tls_cipher, s->resumed_from);
	s->repeats = 0;
	s->last_error[0] = '\0'; /* what ended the last connection is over */
	s->last_errno = 0;
	set_state(s, STREAM_STREAMING, why);
}

static void commit_position(struct stream *s)
{
	if (s->trx.has_mariadb_gtid &&
	    gtid_pos_update(&s->commit_gtid, s->trx.domain, s->trx.server, s->trx.seq) != 0)
		log_error("master %s: more than %d GTID domains; checkpoint by file only",
			  s->m->name, GTID_POS_MAX);
	if (gtid_pos_format(&s->commit_gtid, s->commit_gtid_text, sizeof(s->commit_gtid_text)) < 0)
		s->commit_gtid_text[0] = '\0';
	snprintf(s->commit_file, sizeof(s->commit_file), "%s", s->file);
	s->commit_offset = s->offset;
	s->have_commit = true;
	if (s->replaying &&
	    conflict_feed_position(s->commit_file, s->commit_offset) >= s->replay_until) {
		s->replaying = false; /* the GTID position is whole again */
		log_info("master %s: replayed up to its checkpoint (%s:%llu)", s->m->name,
			 s->commit_file, (unsigned long long)s->commit_offset);
	}
	s->dirty = true;
	s->transactions++;
	if (s->sink.trx_end != NULL)
		s->sink.trx_end(s->sink.ctx, s->index, &s->trx);
}

/* A GTID_LIST states the position at that point of the binlog: keep the newer
 * GTID of each domain (it fills in domains no transaction has shown yet). */
static void merge_gtid_list(struct stream *s, const binlog_gtid_list *l)
{
	gtid_pos listed;
	rw_error err;

	if (binlog_trx_open(&s->trx) ||
	    gtid_pos_from_list(l->entries, l->count, &listed, &err) != 0)
		return;
	for (size_t i = 0; i < listed.n; i++) {
		const gtid_pos_entry *have = gtid_pos_get(&s->commit_gtid, listed.e[i].domain);
		if ((have == NULL || have->seq < listed.e[i].seq) &&
		    gtid_pos_update(&s->commit_gtid, listed.e[i].domain, listed.e[i].server,
				    listed.e[i].seq) != 0)
			return;
	}
	if (gtid_pos_format(&s->commit_gtid, s->commit_gtid_text, sizeof(s->commit_gtid_text)) < 0)
		s->commit_gtid_text[0] = '\0';
}

/*
 * A heartbeat says where the master's dump thread is: past events it skipped
 * (those before a GTID start position) or idle at the end of the binlog.
 */
static void heartbeat_position(struct stream *s, const binlog_event *ev)
{
	const binlog_heartbeat *hb = &ev->u.heartbeat;
	uint64_t pos = ev->hdr.type == BINLOG_HEARTBEAT_V2 ? hb->position : ev->hdr.log_pos;

	if (binlog_trx_open(&s->trx) || hb->file.len != strlen(s->file) ||
	    memcmp(hb->file.p, s->file, hb->file.len) != 0 || pos <= s->offset)
		return;
	s->offset = pos;
	if (strcmp(s->commit_file, s->file) == 0 && s->commit_offset < pos) {
		s->commit_offset = pos;
		s->dirty = true;
	}
}

/* handle_event(): the sink refused the event (stream_sink.admit). */
#define REFUSED 1

static int handle_event(struct stream *s, const binlog_event *ev, const uint8_t *batch,
			size_t batch_len)
{
	int mark;

	if (s->sink.admit != NULL && !s->admit_all && !ev->in_payload &&
	    !s->sink.admit(s->sink.ctx, s->index, ev))
		return REFUSED;

	if (ev->hdr.timestamp != 0)
		s->last_event_ts = ev->hdr.timestamp;
	if (ev->hdr.type == BINLOG_ROTATE && !ev->in_payload) {
		snprintf(s->file, sizeof(s->file), "%.*s", (int)ev->u.rotate.file.len,
			 ev->u.rotate.file.p);
		s->offset = ev->u.rotate.position;
	} else if (!ev->in_payload && !(ev->hdr.flags & BINLOG_FLAG_ARTIFICIAL) &&
		   ev->hdr.type != BINLOG_HEARTBEAT && ev->hdr.type != BINLOG_HEARTBEAT_V2) {
		s->offset = (uint64_t)ev->next_position;
	}
	if (ev->hdr.type == BINLOG_HEARTBEAT || ev->hdr.type == BINLOG_HEARTBEAT_V2)
		heartbeat_position(s, ev);
	if (ev->hdr.type == BINLOG_MARIADB_GTID_LIST)
		merge_gtid_list(s, &ev->u.gtid_list);
	mark = binlog_trx_feed(&s->trx, ev);
	if (mark == BINLOG_TRX_END || mark == BINLOG_TRX_SINGLE)
		commit_position(s);
	/* a packet of a TRANSACTION_PAYLOAD has no batch (replica.c makes none) */
	if (s->sink.event != NULL)
		s->sink.event(s->sink.ctx, s->index, ev, batch, batch_len);
	return 0;
}

static void fail_stream(struct stream *s, const char *what)
{
	snprintf(s->last_error, sizeof(s->last_error), "%.500s", what);
	s->last_errno = 0;
	log_error("master %s: %s", s->m->name, what);
	if (s->replica != NULL)
		replica_stop(s->replica); /* its REPLICA_ENDED letter brings the retry */
}

/*
 * The sink refused ev, the first event of the packet just fed: the reader
 * goes back to where ev starts (a fork forgets the rest of the packet), the
 * packet is fed again when the sink lets it, and a second reader reads the
 * packets held meanwhile for the sink.  false when the reader cannot be
 * forked: the stream goes on without holding.
 */
static bool refuse(struct stream *s, const binlog_event *ev)
{
	rw_error err;
	binlog_reader *again = binlog_reader_fork(s->reader, &err);
	binlog_reader *peek = again != NULL ? binlog_reader_fork(again, &err) : NULL;

	if (peek == NULL) {
		log_warn("master %s: cannot hold its events (%s); going on", s->m->name, err.text);
		binlog_reader_free(again);
		if (s->sink.give_up != NULL)
			s->sink.give_up(s->sink.ctx, s->index);
		return false;
	}
	binlog_reader_set_position(again, ev->position);
	binlog_reader_set_position(peek, ev->next_position);
	binlog_reader_set_skim(peek, 1);
	binlog_reader_free(s->reader);
	s->reader = again;
	binlog_reader_free(s->peek);
	s->peek = peek;
	s->sink_held = true;
	return true;
}

/*
 * One packet of events and the row batch the replica thread made of it
 * (NULL: none); REFUSED when the sink refused its first (the packet is to
 * be kept, the batch is not).
 */
static int on_event(struct stream *s, const uint8_t *bytes, size_t len, const uint8_t *batch,
		    size_t batch_len)
{
	binlog_event ev;
	rw_error err;
	int rc, first = 1;

	if (s->reader == NULL)
		return 0;
	if (binlog_reader_feed(s->reader, bytes, len, &err) != 0) {
		fail_stream(s, err.text);
		return 0;
	}
	while ((rc = binlog_reader_next(s->reader, &ev, &err)) == 1) {
		if (handle_event(s, &ev, batch, batch_len) == REFUSED) {
			if (first && refuse(s, &ev))
				return REFUSED;
			/* not the packet's first (never seen: one event a packet), or no
			 * fork: taken as it is */
			s->admit_all = true;
			handle_event(s, &ev, batch, batch_len);
			s->admit_all = false;
		}
		first = 0;
	}
	s->events++;
	s->bytes += len;
	s->last_event_mono = clock_mono();
	s->last_event_wall = clock_wall();
	if (rc < 0) {
		char what[600];
		snprintf(what, sizeof(what), "binlog %s at offset %lld: %s", s->file,
			 (long long)err.offset, err.text);
		binlog_reader_free(s->reader);
		s->reader = NULL; /* nothing more from this connection */
		fail_stream(s, what);
		return 0;
	}
	save_checkpoint(s, false);
	return 0;
}

/* The master no longer has what the checkpoint points at: say so, durably,
 * and go on from the oldest binlog it still has. */
static void record_gap(struct stream *s, const struct replica_end *end)
{
	memset(&s->gap, 0, sizeof(s->gap));
	snprintf(s->gap.master, sizeof(s->gap.master), "%s", s->m->name);
	snprintf(s->gap.from, sizeof(s->gap.from), "%s", s->resumed_from);
	snprintf(s->gap.to, sizeof(s->gap.to), "the oldest binlog");
	snprintf(s->gap.reason, sizeof(s->gap.reason), "%s", end->message);
	s->gap.at = clock_wall();
	s->gap.id = s->st != NULL ? state_gap_add(s->st, &s->gap) : 0;
	s->gap_open = true;
	if (s->sink.gap != NULL)
		s->sink.gap(s->sink.ctx, s->index);
	log_error("master %s: GAP: cannot resume from %s (%s); events between it and the oldest "
		  "binlog the master still has are lost to ringwatch; continuing from there",
		  s->m->name, s->resumed_from, end->message);
	s->have_commit = false;
	s->replaying = false; /* what it would replay is gone */
	s->commit_file[0] = '\0';
	s->commit_offset = 0;
	gtid_pos_clear(&s->commit_gtid);
	s->commit_gtid_text[0] = '\0';
}

static bool is_gap(const struct stream *s, const struct replica_end *end)
{
	/* 1236: ER_MASTER_FATAL_ERROR_READING_BINLOG, e.g. "Could not find GTID
	 * state requested by slave in any binlog files" or a purged file */
	return end->err_code == 1236 && s->resumed;
}

static void on_ended(struct stream *s, const struct replica_end *end)
{
	char why[600];
	bool same = strcmp(s->last_error, end->message) == 0 && s->last_errno == end->err_code;

	replica_join(s->replica);
	s->replica = NULL;
	if (end->stopped && s->state == STREAM_STOPPED)
		return;
	if (!end->stopped || s->last_error[0] == '\0') {
		snprintf(s->last_error, sizeof(s->last_error), "%s", end->message);
		s->last_errno = end->err_code;
	}
	s->repeats = same ? s->repeats + 1 : 0;
	if (s->connected_at > 0 && clock_mono() - s->connected_at >= STABLE_AFTER)
		s->backoff = BACKOFF_MIN;
	s->connected_at = 0;
	save_checkpoint(s, true);
	if (end->clash) {
		s->blocked = true;
		log_error("master %s: %s", s->m->name, end->message);
		set_state(s, STREAM_STOPPED, "the configuration must change");
		return;
	}
	if (is_gap(s, end)) {
		record_gap(s, end);
		s->backoff = BACKOFF_MIN;
	}
	if (end->err_code != 0)
		snprintf(why, sizeof(why), "%s (%u); retry in about %.1f s", s->last_error,
			 end->err_code, s->backoff);
	else
		snprintf(why, sizeof(why), "%s; retry in about %.1f s", s->last_error, s->backoff);
	set_state(s, STREAM_BACKOFF, why);
	schedule_retry(s);
}

static void drop_held(struct stream *s)
{
	while (s->held != NULL) {
		struct mail *m = s->held;
		s->held = m->next;
		free(m);
	}
	s->held_tail = NULL;
	s->held_bytes = 0;
	s->sink_held = false;
	binlog_reader_free(s->peek);
	s->peek = NULL;
}

static void append_held(struct stream *s, struct replica_letter *l)
{
	l->hdr.next = NULL;
	if (s->held_tail != NULL)
		s->held_tail->next = &l->hdr;
	else
		s->held = &l->hdr;
	s->held_tail = &l->hdr;
	s->held_bytes += l->hdr.size;
}

/* What is held, read for the sink as it comes: true when the sink lets it all go. */
static bool peek_held(struct stream *s, struct replica_letter *l)
{
	binlog_event ev;
	rw_error err;
	int rc;

	if (s->peek == NULL || s->sink.held == NULL)
		return false;
	if (binlog_reader_feed(s->peek, l->body, l->len, &err) != 0)
		rc = -1;
	else
		while ((rc = binlog_reader_next(s->peek, &ev, &err)) == 1) {
			if (s->sink.held(s->sink.ctx, s->index, &ev))
				return true;
		}
	if (rc < 0) { /* the stream itself will say what is wrong when it gets there */
		binlog_reader_free(s->peek);
		s->peek = NULL;
	}
	return false;
}

static void release_held(struct stream *s);

/* Keep an event until the sink is ready or lets it go; false when it must be processed now. */
static bool hold(struct stream *s, struct replica_letter *l)
{
	if (!s->sink_held && (s->sink.ready == NULL || s->sink.ready(s->sink.ctx)))
		return false;
	if (s->held_bytes + l->hdr.size > HOLD_MAX) {
		if (s->sink_held) {
			log_warn("master %s: held %zu bytes of its events for a table's shape; "
				 "going on without",
				 s->m->name, s->held_bytes);
			s->sink_held = false;
			if (s->sink.give_up != NULL)
				s->sink.give_up(s->sink.ctx, s->index);
			release_held(s);
			if (!s->sink_held)
				return false;
			append_held(s, l); /* refused again, further on */
			return true;
		}
		log_warn("master %s: held %zu bytes waiting for every master's server_id; going "
			 "on without",
			 s->m->name, s->held_bytes);
		return false;
	}
	append_held(s, l);
	if (s->sink_held && peek_held(s, l))
		stream_resume(s);
	return true;
}

/* What was held, in order, until the sink refuses an event again. */
static void release_held(struct stream *s)
{
	binlog_reader_free(s->peek);
	s->peek = NULL;
	while (s->held != NULL && !s->sink_held) {
		struct replica_letter *l = (struct replica_letter *)s->held;
		if (on_event(s, l->body, l->len, NULL, 0) == REFUSED)
			break; /* l stays first; the rest go to the new peek reader */
		s->held = l->hdr.next;
		s->held_bytes -= l->hdr.size;
		free(l);
	}
	if (s->held == NULL) {
		s->held_tail = NULL;
		s->held_bytes = 0;
		return;
	}
	/* refused again: the sink reads what is already held */
	for (struct mail *m = s->held->next; m != NULL && s->sink_held; m = m->next) {
		if (peek_held(s, (struct replica_letter *)m)) {
			stream_resume(s);
			return;
		}
	}
}

void stream_resume(struct stream *s)
{
	if (!s->sink_held)
		return;
	s->sink_held = false;
	release_held(s);
}

/* One event's letter: taken now, or kept (held) by the stream. */
static void take_event(struct stream *s, struct replica_letter *l)
{
	if (hold(s, l))
		return;
	release_held(s);
	if (s->sink_held) {
		append_held(s, l);
		return;
	}
	if (on_event(s, l->body, l->len, NULL, 0) == REFUSED) {
		append_held(s, l);
		return;
	}
	free(l);
}

/* An event of a REPLICA_EVENTS letter as a letter of its own, for the stream to keep. */
static struct replica_letter *one_event(const struct replica_letter *batch, const uint8_t *p,
					size_t len)
{
	struct replica_letter *l = malloc(sizeof(*l) + len);

	if (l == NULL)
		return NULL;
	l->hdr.next = NULL;
	l->hdr.kind = REPLICA_EVENT;
	l->hdr.size = sizeof(*l) + len;
	l->generation = batch->generation;
	l->len = len;
	memcpy(l->body, p, len);
	return l;
}

/*
 * The events of a REPLICA_EVENTS letter, in order: read in place while
 * nothing is held, else each as a letter of its own, as if it had come alone.
 */
static void take_events(struct stream *s, const struct replica_letter *batch)
{
	struct replica_letter *l;
	const uint8_t *p, *rows;
	size_t len, rows_len, at = 0;

	while (replica_events_next(batch, &at, &p, &len, &rows, &rows_len)) {
		bool direct = s->held == NULL && !s->sink_held &&
			      (s->sink.ready == NULL || s->sink.ready(s->sink.ctx));

		if (direct && on_event(s, p, len, rows, rows_len) != REFUSED)
			continue;
		if ((l = one_event(batch, p, len)) == NULL) {
			/* nothing more from this connection: the next reads it again from the
			 * checkpoint */
			binlog_reader_free(s->reader);
			s->reader = NULL;
			fail_stream(s, "out of memory holding an event");
			return;
		}
		if (direct)
			append_held(s, l); /* refused: kept from here on */
		else
			take_event(s, l);
	}
}

static void on_letter(void *ctx, struct mail *m)
{
	struct stream *s = ctx;
	struct replica_letter *l = (struct replica_letter *)m;

	if (l->generation != s->generation) {
		free(l); /* from a connection already given up */
		return;
	}
	switch (l->hdr.kind) {
	case REPLICA_CONNECTED:
		on_connected(s, (const struct replica_hello *)(const void *)l->body);
		break;
	case REPLICA_EVENT:
		take_event(s, l);
		publish_shapes(s);
		return;
	case REPLICA_EVENTS:
		take_events(s, l);
		publish_shapes(s);
		break;
	case REPLICA_ENDED:
		/* what was held belongs to this connection's reader: the next one
		 * reads it again from the checkpoint */
		drop_held(s);
		on_ended(s, (const struct replica_end *)(const void *)l->body);
		break;
	}
	free(l);
}

/* ---- the public face ------------------------------------------------------------ */

struct stream *stream_new(struct event_base *base, size_t index, const struct config_master *m,
			  uint32_t replica_server_id, struct state *st, struct stream_sink sink)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->index = index;
	s->m = m;
	s->replica_server_id = replica_server_id;
	s->st = st;
	s->sink = sink;
	s->state = STREAM_STOPPED;
	s->backoff = BACKOFF_MIN;
	s->last_event_mono = -1;
	gtid_pos_clear(&s->commit_gtid);
	s->mb = mailbox_new(base, MAILBOX_BYTES, on_letter, s);
	s->retry = evtimer_new(base, on_retry, s);
	if (s->mb == NULL || s->retry == NULL) {
		stream_free(s);
		return NULL;
	}
	return s;
}

void stream_start(struct stream *s)
{
	load_checkpoint(s);
	load_gap(s);
	connect_now(s);
}

void stream_start_from(struct stream *s, const char *file, uint64_t offset)
{
	char moved[256];
	uint64_t moved_offset;

	load_checkpoint(s);
	load_gap(s);
	if (s->st != NULL &&
	    state_gap_moved_to(s->st, s->m->name, moved, sizeof(moved), &moved_offset) == 0 &&
	    conflict_feed_position(file, offset) < conflict_feed_position(moved, moved_offset)) {
		log_info("master %s: the conflict engine's mark %s:%llu lies before a gap that was "
			 "acknowledged; reading goes on from %s:%llu, where the gap moved it",
			 s->m->name, file, (unsigned long long)offset, moved,
			 (unsigned long long)moved_offset);
		file = moved;
		offset = moved_offset;
	}
	if (s->have_commit && s->commit_file[0] != '\0') {
		s->replay_until = conflict_feed_position(s->commit_file, s->commit_offset);
		s->replaying = s->replay_until > conflict_feed_position(file, offset);
	}
	log_info("master %s: replays from %s:%llu, the conflict engine's mark%s", s->m->name, file,
		 (unsigned long long)offset,
		 s->replaying ? " (by file until it passes its own checkpoint)" : "");
	snprintf(s->commit_file, sizeof(s->commit_file), "%s", file);
	s->commit_offset = offset;
	s->have_commit = true;
	s->by_file = true;
	connect_now(s);
}

void stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->state != STREAM_STOPPED)
		set_state(s, STREAM_STOPPED, NULL);
	if (s->replica != NULL) {
		replica_stop(s->replica);
		mailbox_close(s->mb); /* a thread blocked on a full mailbox wakes up */
		replica_join(s->replica);
	}
	save_checkpoint(s, true);
	drop_held(s);
	if (s->retry != NULL)
		event_free(s->retry);
	mailbox_free(s->mb);
	binlog_reader_free(s->reader);
	free(s);
}

void stream_reconfigure(struct stream *s, const struct config_master *m, uint32_t replica_server_id)
{
	s->m = m;
	s->replica_server_id = replica_server_id;
	if (s->blocked && s->replica == NULL) {
		s->blocked = false;
		s->backoff = BACKOFF_MIN;
		log_info("master %s: the configuration changed; connecting again", m->name);
		connect_now(s);
	}
}

void stream_view(struct stream *s, struct stream_view *v)
{
	memset(v, 0, sizeof(*v));
	v->name = s->m->name;
	v->host = s->m->host;
	v->socket = s->m->socket;
	v->port = s->m->port;
	v->state = s->state;
	v->connected = s->state == STREAM_STREAMING;
	v->server_id = s->server_id;
	v->version = s->version;
	v->tls_cipher = s->tls_cipher;
	v->file = s->file;
	v->offset = s->offset;
	v->gtid = s->commit_gtid_text;
	v->last_event_age = s->last_event_mono < 0 ? -1 : clock_mono() - s->last_event_mono;
	v->last_event_received = s->last_event_wall;
	v->last_event_timestamp = s->last_event_ts;
	v->events_total = s->events;
	v->bytes_total = s->bytes;
	v->transactions_total = s->transactions;
	v->reconnects_total = s->reconnects;
	v->last_error = s->last_error;
	v->last_errno = s->last_errno;
	v->gap = s->gap_open;
	v->gap_id = s->gap_open ? s->gap.id : 0;
	v->gap_detail = s->gap_open ? s->gap.reason : "";
}

uint32_t stream_server_id(const struct stream *s)
{
	return s->server_id;
}

int stream_ack_gap(struct stream *s, int64_t id)
{
	struct checkpoint here;
	bool move;

	if (!s->gap_open || s->gap.id != id)
		return 1;
	/* no transaction read since the gap: the checkpoint still points into
	 * what the master purged, so it moves to where reading went on */
	move = !s->have_commit && s->file[0] != '\0' && !binlog_trx_open(&s->trx);
	memset(&here, 0, sizeof(here));
	here.server_id = s->server_id;
	snprintf(here.gtid, sizeof(here.gtid), "%s", s->commit_gtid_text);
	snprintf(here.file, sizeof(here.file), "%s", s->file);
	here.offset = s->offset;
	here.saved_at = clock_wall();
	if (s->st != NULL && state_gap_ack(s->st, id, move ? &here : NULL) < 0)
		return 1;
	if (move) {
		snprintf(s->commit_file, sizeof(s->commit_file), "%s", here.file);
		s->commit_offset = here.offset;
		s->have_commit = true;
	}
	s->gap_open = false;
	if (move)
		log_info("master %s: gap %lld acknowledged; the checkpoint moves to %s:%llu, "
			 "where reading went on",
			 s->m->name, (long long)id, here.file, (unsigned long long)here.offset);
	else
		log_info("master %s: gap %lld acknowledged", s->m->name, (long long)id);
	return 0;
}
