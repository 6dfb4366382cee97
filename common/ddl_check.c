/*
 * ddl_check.c - schema changes judged and answered as JSON (see ddl_check.h).
 */
#include "ddl_check.h"

#include "ringwatch/rw_error.h"

json_t *ddl_check_json(const char *text, size_t len, const ddl_options *opt, const ddl_context *ctx,
		       size_t *unread)
{
	json_t *statements = json_array(), *out;
	ddl_script sc;
	const char *stmt;
	size_t stmt_len, bad = 0;
	bool safe = true;

	if (statements == NULL)
		return NULL;
	ddl_script_init(&sc, text, len);
	while (ddl_script_next(&sc, &stmt, &stmt_len) == 1) {
		ddl_judgement j;
		ddl_stmt s;
		rw_error err;
		json_t *reasons = json_array(), *one;
		bool read;

		if (ddl_parse(stmt, stmt_len, opt, &s, &err) != 0) {
			json_decref(reasons);
			json_decref(statements);
			return NULL;
		}
		ddl_judge(&s, ctx, &j);
		read = s.kind != DDL_UNPARSED;
		bad += !read;
		safe = safe && j.verdict != DDL_UNSAFE && read;
		ddl_stmt_free(&s);
		for (size_t i = 0; reasons != NULL && i < j.n; i++)
			json_array_append_new(reasons, json_string(j.reasons[i].text));
		one = json_pack("{s:s%,s:s,s:o*,s:b}", "sql", stmt, stmt_len, "verdict",
				ddl_verdict_name(j.verdict), "reasons", reasons, "read", read);
		if (one != NULL && j.algorithm[DDL_FLAVOUR_MARIADB] != DDL_ALG_NONE &&
		    json_object_set_new(
			one, "algorithm",
			json_pack("{s:s,s:s}", "mariadb",
				  ddl_algorithm_name(j.algorithm[DDL_FLAVOUR_MARIADB]), "mysql",
				  ddl_algorithm_name(j.algorithm[DDL_FLAVOUR_MYSQL]))) != 0) {
			json_decref(one);
			one = NULL;
		}
		if (one == NULL || json_array_append_new(statements, one) != 0) {
			json_decref(statements);
			return NULL;
		}
	}
	if (unread != NULL)
		*unread = bad;
	out = json_pack("{s:b,s:o}", "safe", safe, "statements", statements);
	return out;
}
