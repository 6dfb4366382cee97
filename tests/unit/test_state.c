/*
 * test_state.c - checkpoints and gaps survive a reopen; the schema migrates once.
 */
#include "../../daemon/state.h"

#include "../tap.h"
#include "state_dir.h"

#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	char dir[] = "/tmp/rw-test-state.XXXXXX";
	char err[256] = "";
	struct checkpoint cp, got;
	struct gap g, open_gap;
	struct state *st;
	int64_t id;

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "open creates the database (%s)", err);
	is_int(state_checkpoint_load(st, "west", &got), 1, "no checkpoint yet");
	memset(&cp, 0, sizeof(cp));
	cp.server_id = 7;
	snprintf(cp.gtid, sizeof(cp.gtid), "1-1-42,2-2-7");
	snprintf(cp.file, sizeof(cp.file), "mariadb-bin.000003");
	cp.offset = 123456789012ULL;
	cp.saved_at = 1795800000.25;
	is_int(state_checkpoint_save(st, "west", &cp), 0, "save");
	cp.offset = 5;
	is_int(state_checkpoint_save(st, "west", &cp), 0, "save again replaces");
	state_close(st);

	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "reopen");
	is_int(state_checkpoint_load(st, "west", &got), 0, "checkpoint found after reopen");
	is_str(got.gtid, "1-1-42,2-2-7", "gtid kept");
	is_str(got.file, "mariadb-bin.000003", "file kept");
	is_int(got.offset, 5, "latest offset kept");
	is_int(got.server_id, 7, "server_id kept");
	ok(got.saved_at == 1795800000.25, "time kept");
	is_int(state_checkpoint_load(st, "east", &got), 1, "other master has none");

	memset(&g, 0, sizeof(g));
	snprintf(g.master, sizeof(g.master), "east");
	snprintf(g.from, sizeof(g.from), "gtid 2-2-10");
	snprintf(g.to, sizeof(g.to), "mariadb-bin.000009:4");
	snprintf(g.reason, sizeof(g.reason), "purged");
	g.at = 1.5;
	is_int(state_gap_open(st, "east", &open_gap), 1, "no gap yet");
	id = state_gap_add(st, &g);
	ok(id > 0, "gap recorded");
	is_int(state_gap_open(st, "east", &open_gap), 0, "open gap found");
	is_int(open_gap.id, id, "its id");
	is_str(open_gap.from, "gtid 2-2-10", "its start");
	is_int(state_gap_ack(st, id), 0, "acknowledged");
	is_int(state_gap_ack(st, id), 1, "only once");
	is_int(state_gap_open(st, "east", &open_gap), 1, "no open gap after acknowledgement");
	state_close(st);

	ok(state_dir_remove(dir) == 0, "temp dir removed");
	return tap_done();
}
