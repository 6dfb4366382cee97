/*
 * conflict_json.c - conflict records as JSON.
 */
#include "conflict_json.h"

#include "hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *text_json(conflict_bytes b)
{
	return json_stringn((const char *)b.p, b.len);
}

/* A row image: its JSON, or null when there is no row or it is not known. */
static json_t *image_json(const conflict_image *im)
{
	json_t *v;

	if (im->state != CONFLICT_IMAGE_ROW || im->row.len == 0)
		return json_null();
	v = json_loadb((const char *)im->row.p, im->row.len, 0, NULL);
	return v != NULL ? v : text_json(im->row);
}

static json_t *time_json(int64_t us)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	char buf[32];

	if (us <= 0)
		return json_null();
	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *key_json(const conflict_record *r, const conflict_keys *keys)
{
	const char *known = keys != NULL ? conflict_keys_json(keys, r->key.p, r->key.len) : NULL;
	json_t *v = known != NULL ? json_loads(known, 0, NULL) : NULL;
	size_t skip = r->schema.len + r->table.len + 2;
	char buf[80];

	if (v != NULL)
		return v;
	/* the canonical bytes after "schema NUL table NUL", in hex */
	hex_put(buf, sizeof(buf), r->key.p + (skip < r->key.len ? skip : r->key.len),
		skip < r->key.len ? r->key.len - skip : 0);
	return json_pack("{s:s}", "#", buf);
}

json_t *conflict_finals_json(unsigned n, const conflict_image *final, const char *const *names)
{
	json_t *o = json_object();

	for (unsigned m = 0; m < n; m++) {
		if (final[m].state == CONFLICT_IMAGE_ROW || final[m].state == CONFLICT_IMAGE_NONE)
			json_object_set_new(o, names[m], image_json(&final[m]));
	}
	return o;
}

json_t *conflict_record_json(const conflict_record *r, const char *const *names,
			     const conflict_keys *keys)
{
	json_t *writes = json_array();
	json_t *o;

	for (int i = 0; i < 2; i++) {
		const conflict_write *w = &r->writes[i];
		json_array_append_new(
		    writes,
		    json_pack("{s:s,s:o,s:s,s:o,s:o,s:o}", "master", names[w->master], "gtid",
			      w->identity.len ? text_json(w->identity) : json_null(), "op",
			      conflict_op_name(w->op), "committed_at", time_json(w->commit_time),
			      "before", image_json(&w->before), "after", image_json(&w->after)));
	}
	o = json_pack("{s:s,s:o,s:o,s:o,s:b,s:o,s:o}", "kind", conflict_kind_name(r->kind),
		      "schema", text_json(r->schema), "table", text_json(r->table), "key",
		      key_json(r, keys), "diverged", r->diverged, "writes", writes, "final",
		      conflict_finals_json(r->n_masters, r->final, names));
	if (r->unique_key)
		json_object_set_new(o, "unique_key", json_true());
	return o;
}

void conflict_update_json(const conflict_update *u, const char *const *names, json_t *changes,
			  json_t *unknown)
{
	for (unsigned m = 0; m < u->n_masters; m++) {
		const conflict_image *f = &u->final[m];
		if (!(u->changed & (1u << m)))
			continue;
		if (f->state == CONFLICT_IMAGE_ROW || f->state == CONFLICT_IMAGE_NONE)
			json_object_set_new(changes, names[m], image_json(f));
		else
			json_array_append_new(unknown, json_string(names[m]));
	}
}

void conflict_final_apply(json_t *final, json_t *changes, json_t *unknown)
{
	const char *master;
	json_t *v;
	size_t i;

	json_object_foreach(changes, master, v) json_object_set(final, master, v);
	json_array_foreach(unknown, i, v) json_object_del(final, json_string_value(v));
}

void conflict_uid(const conflict_id *id, char buf[CONFLICT_ID_TEXT])
{
	conflict_id_format(id, buf);
}

int conflict_uid_parse(const char *uid, conflict_id *id)
{
	size_t n;
	uint8_t *b = strlen(uid) == 32 ? hex_decode(uid, &n) : NULL;

	if (b == NULL)
		return -1;
	id->hi = id->lo = 0;
	for (int i = 0; i < 8; i++) {
		id->hi = id->hi << 8 | b[i];
		id->lo = id->lo << 8 | b[8 + i];
	}
	free(b);
	return 0;
}
