/*
 * alert_sender.c - the thread that POSTs alerts to their receivers
 * (alert_sender.h), with libcurl, and the webhook's signature, with
 * nettle's HMAC-SHA256.
 *
 * Each receiver has a thread of its own, so that one that hangs (a POST
 * waiting out its timeout) delays no other.  The loop thread only ever
 * takes the mutex to queue; a receiver's thread holds it while it picks
 * what to send and settles the outcome, never during a POST.  A queued
 * entry carries a sequence number: a POST covers the entries numbered up
 * to the highest it took, so what was queued or replaced while it was on
 * the way stays for the next one.
 */
#include "alert_sender.h"

#include "clock.h"
#include "common/hex.h"
#include "log.h"

#include <curl/curl.h>
#include <math.h>
#include <nettle/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum receiver_kind {
	RECEIVER_ALERTMANAGER, /* the latest of each alert, all in one POST */
	RECEIVER_WEBHOOK,      /* each change in order, one POST each */
};

struct queued {
	uint64_t fp;
	uint64_t seq;
	char *body;
};

struct alert_sender;

struct receiver {
	struct alert_sender *s;
	pthread_t thread;
	bool started;
	CURL *curl; /* the thread's */
	enum receiver_kind kind;
	char name[160];
	char *url;
	struct queued *q;
	size_t n, cap;
	double next_try; /* monotonic seconds; 0: now */
	double backoff;
	bool failing;   /* since the latest POST failed (logged once) */
	bool recovered; /* an Alertmanager delivered again: it may have lost what fired */
	bool dropping;  /* since the queue first overflowed in this outage (logged once) */
	unsigned failures;
	uint64_t sent, failed, dropped;
};

struct alert_sender {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stop;
	struct receiver *r;
	size_t n_r;
	char *secret;
	char *user_agent;
	double timeout, backoff_min, backoff_max;
	size_t max_queued;
	uint64_t seq; /* of the newest queued entry */
};

int alert_sender_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void alert_sender_global_cleanup(void)
{
	curl_global_cleanup();
}

void alert_sender_sign(const char *secret, const char *body, size_t len,
		       char out[ALERT_SIGNATURE_LEN])
{
	struct hmac_sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, len, (const uint8_t *)body);
	hmac_sha256_digest(&ctx, sizeof(digest), digest);
	memcpy(out, "sha256=", 7);
	hex_put(out + 7, ALERT_SIGNATURE_LEN - 7, digest, sizeof(digest));
	explicit_bzero(&ctx, sizeof(ctx));
}

/* ---- receivers ---------------------------------------------------------------------- */

/* "alertmanager:HOST:PORT": the URL's host and port, without what may be secret. */
static void receiver_name(char *out, size_t len, const char *kind, const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p != NULL ? p + 3 : url;
	n = strcspn(p, "/?#");
	for (size_t i = n; i-- > 0;) {
		if (p[i] == '@') { /* user:password@ */
			p += i + 1;
			n -= i + 1;
			break;
		}
	}
	snprintf(out, len, "%s:%.*s", kind, (int)n, p);
}

/*
 * Two receivers of one host and port (paths behind one proxy) must not
 * share a name, which is their metrics' label: the second is "NAME/2", the
 * third "NAME/3", in the order of the list.
 */
static void distinct_name(const struct alert_sender *s, struct receiver *r)
{
	char base[sizeof(r->name) - 12]; /* room for "/" and a number */
	unsigned same = 1;

	snprintf(base, sizeof(base), "%.147s", r->name);
	for (size_t i = 0; i < s->n_r; i++)
		same += strncmp(s->r[i].name, base, strlen(base)) == 0 &&
			(s->r[i].name[strlen(base)] == '\0' || s->r[i].name[strlen(base)] == '/');
	if (same > 1)
		snprintf(r->name, sizeof(r->name), "%s/%u", base, same);
}

static int add_receiver(struct alert_sender *s, enum receiver_kind kind, const char *url,
			size_t len)
{
	static const char path[] = "/api/v2/alerts";
	struct receiver *r = &s->r[s->n_r];
	size_t room;

	while (len > 0 && url[len - 1] == '/' && kind == RECEIVER_ALERTMANAGER)
		len--;
	room = len + sizeof(path);
	r->url = malloc(room);
	if (r->url == NULL)
		return -1;
	snprintf(r->url, room, "%.*s%s", (int)len, url, kind == RECEIVER_ALERTMANAGER ? path : "");
	r->s = s;
	r->kind = kind;
	receiver_name(r->name, sizeof(r->name),
		      kind == RECEIVER_ALERTMANAGER ? "alertmanager" : "webhook", r->url);
	distinct_name(s, r);
	r->backoff = s->backoff_min;
	s->n_r++;
	return 0;
}

/* Each base URL of a comma-separated list. */
static int add_alertmanagers(struct alert_sender *s, const char *list)
{
	while (list != NULL && *list != '\0') {
		size_t n;

		list += strspn(list, " ,");
		n = strcspn(list, ",");
		while (n > 0 && list[n - 1] == ' ')
			n--;
		if (n > 0 && add_receiver(s, RECEIVER_ALERTMANAGER, list, n) != 0)
			return -1;
		list += strcspn(list, ",");
	}
	return 0;
}

static void drop_oldest(struct receiver *r)
{
	if (!r->dropping)
		log_warn("alerts: %s: %zu waiting already; the oldest are dropped", r->name, r->n);
	r->dropping = true;
	free(r->q[0].body);
	memmove(r->q, r->q + 1, (r->n - 1) * sizeof(*r->q));
	r->n--;
	r->dropped++;
}

/* Queue a copy of body; an Alertmanager's replaces the alert's earlier one. */
static void enqueue(struct alert_sender *s, struct receiver *r, uint64_t fp, const char *body)
{
	char *copy = strdup(body);

	if (copy == NULL) {
		r->dropped++;
		return;
	}
	for (size_t i = 0; r->kind == RECEIVER_ALERTMANAGER && i < r->n; i++) {
		if (r->q[i].fp == fp) {
			free(r->q[i].body);
			r->q[i].body = copy;
			r->q[i].seq = ++s->seq;
			return;
		}
	}
	if (r->n > 0 && r->n >= s->max_queued)
		drop_oldest(r);
	if (r->n == r->cap) {
		size_t cap = r->cap > 0 ? 2 * r->cap : 16;
		struct queued *grown = realloc(r->q, cap * sizeof(*grown));
		if (grown == NULL) {
			free(copy);
			r->dropped++;
			return;
		}
		r->q = grown;
		r->cap = cap;
	}
	r->q[r->n++] = (struct queued){ fp, ++s->seq, copy };
}

void alert_sender_post(struct alert_sender *s, const struct alerts_item *items, size_t n)
{
	if (s == NULL || n == 0)
		return;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < s->n_r; k++) {
			struct receiver *r = &s->r[k];
			const char *body = r->kind == RECEIVER_ALERTMANAGER ? items[i].alertmanager
									    : items[i].webhook;
			if (body != NULL)
				enqueue(s, r, items[i].fingerprint, body);
		}
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

size_t alert_sender_view(struct alert_sender *s, struct alert_receiver_view *out, size_t max)
{
	size_t n;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->mu);
	n = s->n_r;
	for (size_t i = 0; i < n && i < max; i++) {
		const struct receiver *r = &s->r[i];
		memcpy(out[i].name, r->name, sizeof(out[i].name));
		out[i].sent = r->sent;
		out[i].failed = r->failed;
		out[i].dropped = r->dropped;
		out[i].queued = r->n;
		out[i].failing = r->failing;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

bool alert_sender_recovered(struct alert_sender *s)
{
	bool any = false;

	if (s == NULL)
		return false;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n_r; i++) {
		any = any || s->r[i].recovered;
		s->r[i].recovered = false;
	}
	pthread_mutex_unlock(&s->mu);
	return any;
}

/* ---- the thread -------------------------------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* curl's progress callback: a nonzero answer cuts the transfer short (stopping). */
static int stopping(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct alert_sender *s = arg;

	(void)a, (void)b, (void)c, (void)d;
	return atomic_load(&s->stop) ? 1 : 0;
}

static struct curl_slist *headers(const struct alert_sender *s, const struct receiver *r,
				  const char *body)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char line[sizeof(ALERT_SIGNATURE_HEADER) + ALERT_SIGNATURE_LEN + 2];
	char sig[ALERT_SIGNATURE_LEN];

	if (h != NULL && r->kind == RECEIVER_WEBHOOK && s->secret != NULL) {
		alert_sender_sign(s->secret, body, strlen(body), sig);
		snprintf(line, sizeof(line), "%s: %s", ALERT_SIGNATURE_HEADER, sig);
		struct curl_slist *more = curl_slist_append(h, line);
		if (more == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = more;
	}
	return h;
}

/* POST body to r: 0 delivered, 1 refused (a 4xx: sending it again would not help), -1 failed. */
static int post(struct alert_sender *s, const struct receiver *r, const char *body, char *why,
		size_t len)
{
	CURL *c = r->curl;
	struct curl_slist *h = headers(s, r, body);
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	if (h == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_USERAGENT, s->user_agent);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(s->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stopping);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(why, len, "%s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return 0;
	snprintf(why, len, "HTTP status %ld", code);
	return code >= 400 && code < 500 && code != 408 && code != 429 ? 1 : -1;
}

/*
 * What one POST to r carries: an Alertmanager's whole queue as one JSON
 * array, the webhook's oldest change.  *hi: the highest sequence number in
 * it.  NULL when out of memory.
 */
static char *take(const struct receiver *r, uint64_t *hi, size_t *count)
{
	size_t len = 2;
	char *body, *p;

	if (r->kind == RECEIVER_WEBHOOK) {
		*hi = r->q[0].seq;
		*count = 1;
		return strdup(r->q[0].body);
	}
	for (size_t i = 0; i < r->n; i++)
		len += strlen(r->q[i].body) + 1;
	body = malloc(len + 1);
	if (body == NULL)
		return NULL;
	p = body;
	*p++ = '[';
	*hi = 0;
	for (size_t i = 0; i < r->n; i++) {
		size_t n = strlen(r->q[i].body);
		if (i > 0)
			*p++ = ',';
		memcpy(p, r->q[i].body, n);
		p += n;
		*hi = r->q[i].seq > *hi ? r->q[i].seq : *hi;
	}
	*p++ = ']';
	*p = '\0';
	*count = r->n;
	return body;
}

/* Remove what a POST covered: an Alertmanager's entries up to hi, the webhook's entry hi. */
static void forget(struct receiver *r, uint64_t hi)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++) {
		bool covered =
		    r->kind == RECEIVER_ALERTMANAGER ? r->q[i].seq <= hi : r->q[i].seq == hi;
		if (covered)
			free(r->q[i].body);
		else
			r->q[k++] = r->q[i];
	}
	r->n = k;
}

/* The outcome of a POST (mutex held): counted, logged once per outage, retried later. */
static void settle(struct alert_sender *s, struct receiver *r, int rc, uint64_t hi, size_t count,
		   const char *why)
{
	if (rc >= 0)
		forget(r, hi);
	if (rc == 0) {
		r->sent += count;
		if (r->failing)
			log_info("alerts: %s: delivering again, after %u failed attempts", r->name,
				 r->failures);
		if (r->failing && r->kind == RECEIVER_ALERTMANAGER)
			r->recovered = true;
		r->failing = r->dropping = false;
		r->failures = 0;
		r->backoff = s->backoff_min;
		r->next_try = 0;
		return;
	}
	r->failed++;
	r->failures++;
	if (rc > 0)
		r->dropped += count;
	if (!r->failing)
		log_warn("alerts: %s: %s (%s); %s", r->name,
			 rc > 0 ? "refused what was sent" : "cannot deliver", why,
			 rc > 0 ? "dropped" : "retrying, with backoff");
	r->failing = true;
	if (rc < 0) {
		r->next_try = clock_mono() + r->backoff;
		r->backoff = fmin(2 * r->backoff, s->backoff_max);
	}
}

static void deliver(struct alert_sender *s, struct receiver *r)
{
	uint64_t hi = 0;
	size_t count = 0;
	char why[CURL_ERROR_SIZE + 32] = "out of memory";
	char *body = take(r, &hi, &count);
	int rc = -1;

	if (body != NULL) {
		pthread_mutex_unlock(&s->mu);
		rc = post(s, r, body, why, sizeof(why));
		free(body);
		pthread_mutex_lock(&s->mu);
	}
	if (!atomic_load(&s->stop))
		settle(s, r, rc, hi, count, why);
}

static void wait_until(struct alert_sender *s, double wake)
{
	struct timespec ts;
	double whole;

	if (wake == 0) {
		pthread_cond_wait(&s->cv, &s->mu);
		return;
	}
	ts.tv_nsec = (long)(modf(wake, &whole) * 1e9);
	ts.tv_sec = (time_t)whole;
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* A receiver's thread: it delivers what is queued once its retry is due, else waits. */
static void *run(void *arg)
{
	struct receiver *r = arg;
	struct alert_sender *s = r->s;

	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&s->stop)) {
		if (r->n > 0 && r->next_try <= clock_mono())
			deliver(s, r);
		else
			wait_until(s, r->n > 0 ? r->next_try : 0);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- start and stop -------------------------------------------------------------------- */

static void sender_free(struct alert_sender *s)
{
	for (size_t i = 0; i < s->n_r; i++) {
		for (size_t k = 0; k < s->r[i].n; k++)
			free(s->r[i].q[k].body);
		free(s->r[i].q);
		free(s->r[i].url);
		if (s->r[i].curl != NULL)
			curl_easy_cleanup(s->r[i].curl);
	}
	free(s->r);
	if (s->secret != NULL)
		explicit_bzero(s->secret, strlen(s->secret));
	free(s->secret);
	free(s->user_agent);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* The condition variable waits on the monotonic clock, as clock_mono() counts. */
static int init_sync(struct alert_sender *s)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		     pthread_cond_init(&s->cv, &ca) == 0
		 ? 0
		 : -1;
	pthread_condattr_destroy(&ca);
	if (rc == 0 && pthread_mutex_init(&s->mu, NULL) != 0) {
		pthread_cond_destroy(&s->cv);
		rc = -1;
	}
	return rc;
}

static int configure(struct alert_sender *s, const struct alert_sender_config *c)
{
	size_t most = 2;

	for (const char *p = c->alertmanager_urls; p != NULL && *p != '\0'; p++)
		most += *p == ',';
	s->r = calloc(most, sizeof(*s->r));
	s->user_agent = strdup(c->user_agent != NULL ? c->user_agent : "ringwatchd");
	s->secret = c->webhook_secret != NULL ? strdup(c->webhook_secret) : NULL;
	s->timeout = c->timeout > 0 ? c->timeout : ALERT_SENDER_TIMEOUT;
	s->backoff_min = c->backoff_min > 0 ? c->backoff_min : ALERT_SENDER_BACKOFF_MIN;
	s->backoff_max =
	    fmax(c->backoff_max > 0 ? c->backoff_max : ALERT_SENDER_BACKOFF_MAX, s->backoff_min);
	s->max_queued = c->max_queued > 0 ? c->max_queued : ALERT_SENDER_MAX_QUEUED;
	if (s->r == NULL || s->user_agent == NULL ||
	    (c->webhook_secret != NULL && s->secret == NULL) ||
	    add_alertmanagers(s, c->alertmanager_urls) != 0)
		return -1;
	if (c->webhook_url != NULL &&
	    add_receiver(s, RECEIVER_WEBHOOK, c->webhook_url, strlen(c->webhook_url)) != 0)
		return -1;
	for (size_t i = 0; i < s->n_r; i++) {
		if ((s->r[i].curl = curl_easy_init()) == NULL)
			return -1;
	}
	return 0;
}

/* Stop and join the receivers' threads that started. */
static void stop_threads(struct alert_sender *s)
{
	atomic_store(&s->stop, true);
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < s->n_r; i++) {
		if (s->r[i].started)
			pthread_join(s->r[i].thread, NULL);
	}
}

struct alert_sender *alert_sender_start(const struct alert_sender_config *c, char *err, size_t len)
{
	struct alert_sender *s = calloc(1, sizeof(*s));

	if (s == NULL || init_sync(s) != 0) {
		free(s);
		snprintf(err, len, "out of resources");
		return NULL;
	}
	atomic_init(&s->stop, false);
	if (configure(s, c) != 0) {
		snprintf(err, len, "out of memory");
		sender_free(s);
		return NULL;
	}
	for (size_t i = 0; i < s->n_r; i++) {
		if (pthread_create(&s->r[i].thread, NULL, run, &s->r[i]) != 0) {
			snprintf(err, len, "cannot start the alert sender's threads");
			stop_threads(s);
			sender_free(s);
			return NULL;
		}
		s->r[i].started = true;
	}
	for (size_t i = 0; i < s->n_r; i++)
		log_info("alerts: sending to %s", s->r[i].name);
	return s;
}

void alert_sender_stop(struct alert_sender *s)
{
	if (s == NULL)
		return;
	stop_threads(s);
	sender_free(s);
}
