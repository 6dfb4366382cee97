/*
 * status.c - what a status snapshot (status.h) owns, released, and what its
 * readers derive from it alike.
 */
#include "status.h"

#include "probe.h"

#include <stdlib.h>
#include <string.h>

void status_release(struct status *st)
{
	for (size_t i = 0; i < st->n_totals; i++) {
		free(st->totals[i].schema);
		free(st->totals[i].table);
		free(st->totals[i].kind);
	}
	free(st->totals);
	free(st->audit);
	free(st->current);
	free(st->catchup);
	free(st->unknown);
	free(st->drift);
	free(st->masters);
	free(st->links);
	free(st->probe_ok);
	free(st->probe_error);
	free(st->trx_age_known);
	free(st->trx_age);
	free(st->trx_error);
	free(st->alert_receivers);
	memset(st, 0, sizeof(*st));
}

double status_link_lag(const struct status_link *sl)
{
	double lag = sl->lag;

	if (sl->l->seconds_behind_known && (double)sl->l->seconds_behind_master > lag)
		lag = (double)sl->l->seconds_behind_master;
	return lag;
}

bool status_stream_live(const struct status *st, size_t i)
{
	const struct stream_view *m = &st->masters[i];

	return m->connected && m->last_event_age >= 0 &&
	       m->last_event_age < 3 * st->heartbeat_period + 1;
}

bool status_catching_up(const struct status *st, size_t i)
{
	return st->catchup != NULL && st->catchup[i].catching_up;
}

const char *status_master_state(const struct status *st, size_t i)
{
	if (st->masters[i].state == STREAM_STREAMING && status_catching_up(st, i))
		return "catching_up";
	return stream_state_name(st->masters[i].state);
}
