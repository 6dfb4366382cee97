/*
 * test_mailbox.c - letters from several threads arrive in order per sender,
 * the byte bound holds senders back, and closing wakes a blocked sender.
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

int main(void)
{
	test_order_and_bound();
	test_close_wakes();
	return tap_done();
}
