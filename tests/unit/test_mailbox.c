/*
 * test_mailbox.c - letters from several threads arrive in order per sender,
 * the byte bound holds senders back, closing wakes a blocked sender, and a
 * wake-up of slow letters lets other events have their turn.
 */
#include "../../daemon/mailbox.h"

#include "../tap.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define SENDERS    3
#define PER_SENDER 20000
#define BOUND      4096

struct letter {
	struct mail hdr;
	int sender;
	int seq;
};

struct state {
	struct event_base *base;
	struct mailbox *mb;
	int next_seq[SENDERS];
	int out_of_order;
	int received;
	size_t max_bytes_seen;
};

struct sender_arg {
	struct mailbox *mb;
	int id;
	int refused;
};

static void deliver(void *ctx, struct mail *m)
{
	struct state *st = ctx;
	struct letter *l = (struct letter *)m;
	size_t letters, bytes;

	mailbox_usage(st->mb, &letters, &bytes);
	if (bytes > st->max_bytes_seen)
		st->max_bytes_seen = bytes;
	if (l->seq != st->next_seq[l->sender])
		st->out_of_order++;
	st->next_seq[l->sender] = l->seq + 1;
	free(l);
	if (++st->received == SENDERS * PER_SENDER)
		event_base_loopbreak(st->base);
}

static void *sender(void *p)
{
	struct sender_arg *a = p;

	for (int i = 0; i < PER_SENDER; i++) {
		struct letter *l = calloc(1, sizeof(*l));
		l->hdr.size = 64;
		l->sender = a->id;
		l->seq = i;
		if (mailbox_post(a->mb, &l->hdr) != 0)
			a->refused++;
	}
	return NULL;
}

static void test_order_and_bound(void)
{
	struct state st;
	struct sender_arg args[SENDERS];
	pthread_t th[SENDERS];

	memset(&st, 0, sizeof(st));
	st.base = event_base_new();
	st.mb = mailbox_new(st.base, BOUND, deliver, &st);
	ok(st.mb != NULL, "mailbox created");
	for (int i = 0; i < SENDERS; i++) {
		args[i] = (struct sender_arg){ st.mb, i, 0 };
		pthread_create(&th[i], NULL, sender, &args[i]);
	}
	event_base_dispatch(st.base);
	for (int i = 0; i < SENDERS; i++)
		pthread_join(th[i], NULL);
	is_int(st.received, SENDERS * PER_SENDER, "every letter delivered");
	is_int(st.out_of_order, 0, "in order per sender");
	ok(st.max_bytes_seen <= BOUND, "never more than the bound queued (%zu)", st.max_bytes_seen);
	is_int(args[0].refused + args[1].refused + args[2].refused, 0, "no post refused");
	mailbox_free(st.mb);
	event_base_free(st.base);
}

static void *blocked_sender(void *p)
{
	struct sender_arg *a = p;
	struct letter *l = calloc(1, sizeof(*l));

	l->hdr.size = BOUND; /* the mailbox already holds one: this one waits */
	if (mailbox_post(a->mb, &l->hdr) != 0)
		a->refused++;
	return NULL;
}

static void ignore(void *ctx, struct mail *m)
{
	(void)ctx;
	free(m);
}

static void test_close_wakes(void)
{
	struct event_base *base = event_base_new();
	struct mailbox *mb = mailbox_new(base, BOUND, ignore, NULL);
	struct letter *first = calloc(1, sizeof(*first));
	struct letter *huge = calloc(1, sizeof(*huge));
	struct sender_arg a = { mb, 0, 0 };
	size_t letters, bytes;
	pthread_t th;

	huge->hdr.size = BOUND * 10;
	is_int(mailbox_post(mb, &huge->hdr), 0, "a letter over the bound passes an empty mailbox");
	mailbox_usage(mb, &letters, &bytes);
	is_int(letters, 1, "one letter waiting");
	pthread_create(&th, NULL, blocked_sender, &a);
	usleep(100 * 1000);
	mailbox_usage(mb, &letters, &bytes);
	is_int(letters, 1, "the second sender is held back");
	mailbox_close(mb);
	pthread_join(th, NULL);
	is_int(a.refused, 1, "closing wakes it with a refusal");
	first->hdr.size = 1;
	is_int(mailbox_post(mb, &first->hdr), -1, "posting after close is refused");
	mailbox_free(mb);
	event_base_free(base);
}

/* Each letter takes 2 ms; a timer due at once counts the letters delivered before it ran. */
struct turn {
	struct event_base *base;
	int delivered;
	int at_timer; /* -1: the timer has not run */
};

static void slow(void *ctx, struct mail *m)
{
	struct turn *t = ctx;

	free(m);
	usleep(2000);
	if (++t->delivered == 50)
		event_base_loopbreak(t->base);
}

static void timer_ran(evutil_socket_t fd, short what, void *ctx)
{
	struct turn *t = ctx;

	(void)fd;
	(void)what;
	t->at_timer = t->delivered;
}

static void test_turns(void)
{
	struct turn t = { event_base_new(), 0, -1 };
	struct mailbox *mb = mailbox_new(t.base, BOUND * 100, slow, &t);
	struct timeval now = { 0, 0 };
	struct event *timer;

	for (int i = 0; i < 50; i++) {
		struct letter *l = calloc(1, sizeof(*l));
		l->hdr.size = 64;
		mailbox_post(mb, &l->hdr);
	}
	timer = evtimer_new(t.base, timer_ran, &t);
	evtimer_add(timer, &now);
	event_base_dispatch(t.base);
	is_int(t.delivered, 50, "50 slow letters delivered");
	ok(t.at_timer >= 0 && t.at_timer < 50,
	   "a timer due meanwhile ran before the last of them (after %d)", t.at_timer);
	event_free(timer);
	mailbox_free(mb);
	event_base_free(t.base);
}

int main(void)
{
	test_order_and_bound();
	test_close_wakes();
	test_turns();
	return tap_done();
}
