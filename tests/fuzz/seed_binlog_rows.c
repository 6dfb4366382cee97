/*
 * seed_binlog_rows.c - cut seeds for fuzz_binlog_rows out of real binlogs:
 * for each rows event (at most a few per file), its TABLE_MAP body and its
 * own body in the layout of binlog_rows_layout.h.
 *
 * usage: seed_binlog_rows OUTDIR FILE...   (files that are not binlogs are skipped)
 */
#include "ringwatch/binlog_reader.h"

#include "binlog_rows_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEDS_PER_FILE 8

static uint8_t tm_body[65536];
static size_t tm_len;

static void write_seed(const char *dir, const char *file, int n, const binlog_event *ev)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	char path[4096];
	uint8_t hdr[2] = { (uint8_t)tm_len, (uint8_t)(tm_len >> 8) };
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%d", dir, base, n);
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fwrite(hdr, 1, 2, f);
	fwrite(tm_body, 1, tm_len, f);
	fputc(ev->hdr.type, f);
	fwrite(ev->raw + 19, 1, ev->raw_len - 19, f);
	fclose(f);
}

static void seed_file(const char *dir, const char *file)
{
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	FILE *f = fopen(file, "rb");
	uint8_t buf[65536];
	binlog_event ev;
	rw_error err;
	size_t n;
	int seeds = 0;

	while (f != NULL && r != NULL && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (binlog_reader_feed(r, buf, n, &err) < 0)
			break;
		while (binlog_reader_next(r, &ev, &err) == 1) {
			if (ev.hdr.type == BINLOG_TABLE_MAP && ev.raw_len - 19 <= sizeof(tm_body)) {
				tm_len = ev.raw_len - 19;
				memcpy(tm_body, ev.raw + 19, tm_len);
			} else if (binlog_event_is_rows(ev.hdr.type) && !ev.in_payload &&
				   tm_len > 0 && !ev.u.rows.compressed && seeds < SEEDS_PER_FILE) {
				write_seed(dir, file, seeds++, &ev);
			}
		}
	}
	if (f != NULL)
		fclose(f);
	binlog_reader_free(r);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: seed_binlog_rows OUTDIR FILE...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		seed_file(argv[1], argv[i]);
	return 0;
}
