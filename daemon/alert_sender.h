/*
 * alert_sender.h - delivers alerts (alerts.h) to Alertmanagers and to a
 * webhook, each receiver from a thread of its own, so the event loop never
 * waits on the network and a receiver that hangs delays no other.
 *
 * alert_sender_post() copies what it is given under a mutex and returns at
 * once.  Each receiver keeps what it has not delivered yet, bounded: an
 * Alertmanager the latest rendering of each alert (a newer one replaces the
 * older, and all go in one POST to /api/v2/alerts), the webhook each change
 * in order (one POST each, signed when there is a secret).  A POST that
 * fails is retried with backoff; one the receiver refuses (a 4xx other than
 * 408 and 429) is dropped.  Failures are counted and logged once per outage;
 * the receiver's name in logs and metrics is its kind and host, never its
 * whole URL (a webhook's path or query may hold a token).
 */
#ifndef RINGWATCHD_ALERT_SENDER_H
#define RINGWATCHD_ALERT_SENDER_H

#include "alerts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alert_sender;

struct alert_sender_config {
	const char *alertmanager_urls; /* base URLs, comma-separated, or NULL */
	const char *webhook_url;       /* or NULL */
	const char *webhook_secret;    /* the HMAC-SHA256 key of the signature, or NULL */
	const char *user_agent;
	double timeout;     /* seconds a POST may take, connecting included */
	double backoff_min; /* seconds before the first retry, doubling up to backoff_max */
	double backoff_max;
	size_t max_queued; /* per receiver; over it the oldest is dropped */
};

#define ALERT_SENDER_TIMEOUT     5.0
#define ALERT_SENDER_BACKOFF_MIN 1.0
#define ALERT_SENDER_BACKOFF_MAX 16.0
#define ALERT_SENDER_MAX_QUEUED  1000

/* The header that carries the webhook's signature: "sha256=" and 64 hex digits. */
#define ALERT_SIGNATURE_HEADER "X-Ringwatch-Signature"
#define ALERT_SIGNATURE_LEN    72

/* What a receiver has done so far (any thread). */
struct alert_receiver_view {
	char name[160];   /* "alertmanager:HOST:PORT" or "webhook:HOST:PORT" */
	uint64_t sent;    /* alerts (Alertmanager) or changes (webhook) delivered */
	uint64_t failed;  /* POSTs that failed */
	uint64_t dropped; /* alerts or changes given up: the queue was full, or refused */
	size_t queued;    /* waiting to be delivered */
	bool failing;     /* its latest POST failed */
};

/* curl's global set-up: call before any thread starts, and its end after all stopped. */
int alert_sender_global_init(void);
void alert_sender_global_cleanup(void);

/* Start the receivers' threads; NULL with err set when out of resources. */
struct alert_sender *alert_sender_start(const struct alert_sender_config *c, char *err, size_t len);

/* Queue items for delivery (copied; the caller keeps its own); never blocks on the network. */
void alert_sender_post(struct alert_sender *s, const struct alerts_item *items, size_t n);

/* Each receiver's counters into out (at most max); how many receivers there are. */
size_t alert_sender_view(struct alert_sender *s, struct alert_receiver_view *out, size_t max);

/*
 * Whether an Alertmanager delivered again after failing since the last
 * call: it may have restarted and forgotten what fires, so send it all.
 */
bool alert_sender_recovered(struct alert_sender *s);

/* Stop the threads (a POST on the way is cut short), drop what is queued, free. */
void alert_sender_stop(struct alert_sender *s);

/* The signature header's value of body with secret: "sha256=" and HMAC-SHA256 in hex. */
void alert_sender_sign(const char *secret, const char *body, size_t len,
		       char out[ALERT_SIGNATURE_LEN]);

#endif
