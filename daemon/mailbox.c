/*
 * mailbox.c - bounded hand-off from worker threads to the libevent loop.
 */
#include "mailbox.h"

#include "clock.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * A wake-up delivers letters for at most DELIVER_SECONDS (or DELIVER_BATCH
 * letters) before the loop gets to do other work: a stream's letter of a
 * backlog is up to 64 KiB of events, and 256 of them took 55 ms while HTTP
 * requests waited (doc/data-flow.md).
 */
#define DELIVER_BATCH   256
#define DELIVER_SECONDS 0.004

struct mailbox {
	pthread_mutex_t lock;
	pthread_cond_t room; /* signalled when bytes drop to half the bound, or on close */
	unsigned waiting;    /* senders blocked on room */
	struct mail *head;
	struct mail *tail;
	size_t letters;
	size_t bytes;
	size_t max_bytes;
	bool closed;
	int efd;
	struct event *wake;
	mailbox_deliver_fn deliver;
	void *ctx;
};

static struct mail *take_one(struct mailbox *mb)
{
	struct mail *m;

	pthread_mutex_lock(&mb->lock);
	m = mb->head;
	if (m != NULL) {
		mb->head = m->next;
		if (mb->head == NULL)
			mb->tail = NULL;
		mb->letters--;
		mb->bytes -= m->size;
		/* a blocked sender goes on once half the bound is free: one wake-up for
		 * many letters, not one each */
		if (mb->waiting > 0 && (mb->head == NULL || mb->bytes <= mb->max_bytes / 2))
			pthread_cond_broadcast(&mb->room);
	}
	pthread_mutex_unlock(&mb->lock);
	return m;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *mb = arg;
	double until = clock_mono() + DELIVER_SECONDS;
	uint64_t count;
	struct mail *m;
	int n = 0;
	bool more = false;

	(void)what;
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	while ((m = take_one(mb)) != NULL) {
		m->next = NULL;
		mb->deliver(mb->ctx, m);
		if (++n == DELIVER_BATCH || clock_mono() >= until) {
			more = true;
			break;
		}
	}
	if (more) {
		/* more may be waiting: come back after other events had a turn */
		count = 1;
		(void)!write(mb->efd, &count, sizeof(count));
	}
}

struct mailbox *mailbox_new(struct event_base *base, size_t max_bytes, mailbox_deliver_fn deliver,
			    void *ctx)
{
	struct mailbox *mb = calloc(1, sizeof(*mb));

	if (mb == NULL)
		return NULL;
	mb->max_bytes = max_bytes;
	mb->deliver = deliver;
	mb->ctx = ctx;
	mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->efd < 0) {
		free(mb);
		return NULL;
	}
	pthread_mutex_init(&mb->lock, NULL);
	pthread_cond_init(&mb->room, NULL);
	mb->wake = event_new(base, mb->efd, EV_READ | EV_PERSIST, on_wake, mb);
	if (mb->wake == NULL || event_add(mb->wake, NULL) != 0) {
		mailbox_free(mb);
		return NULL;
	}
	return mb;
}

int mailbox_post(struct mailbox *mb, struct mail *m)
{
	uint64_t one = 1;
	bool was_empty;

	m->next = NULL;
	pthread_mutex_lock(&mb->lock);
	while (!mb->closed && mb->head != NULL && mb->bytes + m->size > mb->max_bytes) {
		mb->waiting++;
		pthread_cond_wait(&mb->room, &mb->lock);
		mb->waiting--;
	}
	if (mb->closed) {
		pthread_mutex_unlock(&mb->lock);
		free(m);
		return -1;
	}
	was_empty = mb->head == NULL;
	if (mb->tail != NULL)
		mb->tail->next = m;
	else
		mb->head = m;
	mb->tail = m;
	mb->letters++;
	mb->bytes += m->size;
	pthread_mutex_unlock(&mb->lock);
	if (was_empty)
		(void)!write(mb->efd, &one, sizeof(one));
	return 0;
}

void mailbox_usage(struct mailbox *mb, size_t *letters, size_t *bytes)
{
	pthread_mutex_lock(&mb->lock);
	*letters = mb->letters;
	*bytes = mb->bytes;
	pthread_mutex_unlock(&mb->lock);
}

void mailbox_close(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	mb->closed = true;
	pthread_cond_broadcast(&mb->room);
	pthread_mutex_unlock(&mb->lock);
}

void mailbox_free(struct mailbox *mb)
{
	struct mail *m;

	if (mb == NULL)
		return;
	mailbox_close(mb);
	while ((m = take_one(mb)) != NULL)
		free(m);
	if (mb->wake != NULL)
		event_free(mb->wake);
	close(mb->efd);
	pthread_cond_destroy(&mb->room);
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}
