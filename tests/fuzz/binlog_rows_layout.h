/*
 * binlog_rows_layout.h - the input layout of the row decoder's fuzz target,
 * shared with the seed generator:
 *   u16 LE  n: length of a TABLE_MAP body
 *   n bytes the TABLE_MAP body (post-header of 8 bytes, as MySQL 5.6+)
 *   1 byte  the rows event type code
 *   rest    the rows event body (post-header included)
 */
#ifndef RINGWATCH_BINLOG_ROWS_LAYOUT_H
#define RINGWATCH_BINLOG_ROWS_LAYOUT_H

#define FUZZ_ROWS_TM_POST_HEADER 8

#endif
