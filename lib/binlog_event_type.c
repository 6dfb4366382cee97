/*
 * binlog_event_type.c - the names of the event type codes (binlog_event_type.h),
 * for the decoders' errors and for ringwatch dump.
 */
#include "ringwatch/binlog_event_type.h"

#include <stddef.h>

static const char *const type_names[256] = {
#define BINLOG_EVENT_TYPE_NAME(name, code) [code] = #name,
	BINLOG_EVENT_TYPES(BINLOG_EVENT_TYPE_NAME)
#undef BINLOG_EVENT_TYPE_NAME
};

const char *binlog_event_type_name(unsigned type)
{
	return type < 256 ? type_names[type] : NULL;
}
