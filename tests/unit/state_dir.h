/*
 * state_dir.h - a state_dir for the SQLite state tests: removed with its
 * database files at the end (the test checks the result).
 */
#ifndef RINGWATCH_TESTS_STATE_DIR_H
#define RINGWATCH_TESTS_STATE_DIR_H

#include <stdio.h>
#include <unistd.h>

/* Remove dir and the database files in it; 0, or -1 when dir stays. */
static inline int state_dir_remove(const char *dir)
{
	static const char *const files[] = { "ringwatch.db", "ringwatch.db-wal", "ringwatch.db-shm",
					     "ringwatchd.lock" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	return rmdir(dir);
}

#endif
