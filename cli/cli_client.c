/*
 * cli_client.c - HTTP requests from the CLI to ringwatchd (libcurl).
 */
#include "cli_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX (64 * 1024 * 1024)

struct answer {
	char *data;
	size_t len;
	int too_large;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *grown;

	if (a->len + n > ANSWER_MAX) {
		a->too_large = 1;
		return 0;
	}
	grown = realloc(a->data, a->len + n + 1);
	if (grown == NULL)
		return 0;
	a->data = grown;
	memcpy(a->data + a->len, ptr, n);
	a->len += n;
	a->data[a->len] = '\0';
	return n;
}

static struct curl_slist *auth_header(void)
{
	const char *token = getenv("RINGWATCH_TOKEN");
	char line[4200];

	if (token == NULL || *token == '\0' || strlen(token) > 4096)
		return NULL;
	snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
	return curl_slist_append(NULL, line);
}

long cli_request(const char *base_url, const char *path, const char *body, json_t **json)
{
	struct answer a = { NULL, 0, 0 };
	struct curl_slist *headers = NULL;
	char url[2048];
	char errbuf[CURL_ERROR_SIZE] = "";
	json_error_t jerr;
	long status = -1;
	CURL *c;
	CURLcode rc;

	*json = NULL;
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	c = curl_easy_init();
	if (c == NULL) {
		fprintf(stderr, "ringwatch: cannot start an HTTP client\n");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (getenv("RINGWATCH_CACERT") != NULL && *getenv("RINGWATCH_CACERT") != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, getenv("RINGWATCH_CACERT"));
	/* POSTs need the token when the daemon has one, and so do the
	 * conflicts when it protects rows */
	headers = auth_header();
	if (headers != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "ringwatch: cannot ask %s: %s\n", url,
			a.too_large ? "answer larger than 64 MiB"
				    : (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	*json = json_loadb(a.data != NULL ? a.data : "", a.len, 0, &jerr);
	if (*json == NULL) {
		fprintf(stderr, "ringwatch: %s answered %ld with something that is not JSON: %s\n",
			url, status, jerr.text);
		status = -1;
	}
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	free(a.data);
	return status;
}

int cli_read_all(FILE *f, rw_buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rw_buf_put(b, chunk, n);
	return ferror(f) || rw_buf_failed(b) ? -1 : 0;
}

void cli_duration(double s, char *buf, size_t len)
{
	long t = (long)s;

	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", t / 86400, t % 86400 / 3600);
}
