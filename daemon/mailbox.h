/*
 * mailbox.h - the one way a worker thread hands something to the event loop.
 *
 * A mailbox is a bounded FIFO of letters, each a malloc'd block starting with
 * struct mail.  Any thread posts; the loop thread receives them, in order,
 * through the callback given at creation (woken by an eventfd watched by
 * libevent).  The bound is in bytes: a post that would go over it waits until
 * the loop has caught up (backpressure), so a fast master cannot make the
 * daemon's memory grow without limit.  Nothing else is shared between threads.
 */
#ifndef RINGWATCHD_MAILBOX_H
#define RINGWATCHD_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct mailbox;

struct mail {
	struct mail *next; /* owned by the mailbox */
	int kind;          /* the sender's own tag */
	size_t size;       /* bytes counted against the bound */
};

/* Called on the loop thread for each letter; it owns the letter (free it). */
typedef void (*mailbox_deliver_fn)(void *ctx, struct mail *m);

/* A mailbox bounded to max_bytes, delivering on base.  NULL on failure. */
struct mailbox *mailbox_new(struct event_base *base, size_t max_bytes, mailbox_deliver_fn deliver,
			    void *ctx);

/*
 * Post m (ownership passes to the mailbox).  Blocks while the mailbox holds
 * more than max_bytes, unless it is empty (a single letter larger than the
 * bound still goes through).  Returns 0, or -1 when the mailbox is closed
 * (the letter is freed).
 */
int mailbox_post(struct mailbox *mb, struct mail *m);

/* Letters waiting and their bytes (any thread). */
void mailbox_usage(struct mailbox *mb, size_t *letters, size_t *bytes);

/* Refuse further posts and wake every blocked sender; letters queued stay. */
void mailbox_close(struct mailbox *mb);

/* Close, drop undelivered letters, free.  Call on the loop thread once no
 * thread can post any more (joined). */
void mailbox_free(struct mailbox *mb);

#endif
