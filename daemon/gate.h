/*
 * gate.h - "is it safe to deploy?": the checks of the GATE object of GET /v1/gate, evaluated
 * over one status snapshot, so /v1/gate, the gate in /v1/status, the
 * ringwatch_gate_safe metric and `ringwatch gate` always agree.
 */
#ifndef RINGWATCHD_GATE_H
#define RINGWATCHD_GATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct status;

#define GATE_MAX_CHECKS 16

struct gate_check {
	const char *name;
	bool ok;
	char detail[768];
};

struct gate {
	bool safe;
	size_t n;
	struct gate_check checks[GATE_MAX_CHECKS];
};

/* Evaluate every check over st, with max_lag and max_trx_age in seconds. */
void gate_evaluate(const struct status *st, double max_lag, double max_trx_age, struct gate *g);

/*
 * Keep only the checks named in list ("lag,replication"), safe recomputed
 * over them; 0, or -1 with the first name that is no check in bad.
 */
int gate_only(struct gate *g, const char *list, char *bad, size_t len);

/* {"safe": bool, "checks": [{"name", "ok", "detail"}...]} (new reference). */
json_t *gate_json(const struct gate *g);

#endif
