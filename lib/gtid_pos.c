/*
 * gtid_pos.c - MariaDB GTID positions.
 */
#include "ringwatch/gtid_pos.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gtid_pos_clear(gtid_pos *p)
{
	p->n = 0;
}

int gtid_pos_update(gtid_pos *p, uint32_t domain, uint32_t server, uint64_t seq)
{
	size_t i = 0;

	while (i < p->n && p->e[i].domain < domain)
		i++;
	if (i < p->n && p->e[i].domain == domain) {
		p->e[i].server = server;
		p->e[i].seq = seq;
		return 0;
	}
	if (p->n == GTID_POS_MAX)
		return RW_E_LIMIT;
	memmove(&p->e[i + 1], &p->e[i], (p->n - i) * sizeof(p->e[0]));
	p->e[i] = (gtid_pos_entry){ domain, server, seq };
	p->n++;
	return 0;
}

const gtid_pos_entry *gtid_pos_get(const gtid_pos *p, uint32_t domain)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->e[i].domain == domain)
			return &p->e[i];
	}
	return NULL;
}

/* One decimal number of at most max; advances *s. */
static int number(const char **s, uint64_t max, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
		p++;
	}
	*s = p;
	*out = v;
	return 0;
}

int gtid_pos_parse(const char *text, gtid_pos *out, rw_error *err)
{
	gtid_pos p;
	const char *s = text;

	gtid_pos_clear(&p);
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	while (*s != '\0') {
		uint64_t d, srv, seq;
		const char *start = s;
		if (number(&s, UINT32_MAX, &d) != 0 || *s++ != '-' ||
		    number(&s, UINT32_MAX, &srv) != 0 || *s++ != '-' ||
		    number(&s, UINT64_MAX, &seq) != 0)
			return rw_error_set(
			    err, RW_E_INVALID, start - text,
			    "GTID position: expected DOMAIN-SERVER-SEQ at offset %td",
			    start - text);
		if (gtid_pos_get(&p, (uint32_t)d) != NULL)
			return rw_error_set(err, RW_E_INVALID, start - text,
					    "GTID position: domain %" PRIu64 " appears twice", d);
		if (gtid_pos_update(&p, (uint32_t)d, (uint32_t)srv, seq) != 0)
			return rw_error_set(err, RW_E_LIMIT, start - text,
					    "GTID position: more than %d domains", GTID_POS_MAX);
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s == ',') {
			s++;
			while (*s == ' ' || *s == '\t' || *s == '\n')
				s++;
			if (*s == '\0')
				return rw_error_set(err, RW_E_INVALID, s - text,
						    "GTID position: ends with a comma");
		} else if (*s != '\0') {
			return rw_error_set(err, RW_E_INVALID, s - text,
					    "GTID position: expected ',' at offset %td", s - text);
		}
	}
	*out = p;
	return 0;
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int gtid_pos_from_list(const uint8_t *entries, uint32_t count, gtid_pos *out, rw_error *err)
{
	gtid_pos p;

	gtid_pos_clear(&p);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = entries + (size_t)i * 16;
		uint64_t seq = (uint64_t)le32(e + 8) | (uint64_t)le32(e + 12) << 32;
		const gtid_pos_entry *have = gtid_pos_get(&p, le32(e));
		/* a list holds one GTID per (domain, server); the domain's position is
		 * the latest of them, the one with the highest sequence number */
		if (have != NULL && have->seq > seq)
			continue;
		if (gtid_pos_update(&p, le32(e), le32(e + 4), seq) != 0)
			return rw_error_set(err, RW_E_LIMIT, -1, "GTID_LIST: more than %d domains",
					    GTID_POS_MAX);
	}
	*out = p;
	return 0;
}

int gtid_pos_format(const gtid_pos *p, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return RW_E_LIMIT;
	buf[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		int n = snprintf(buf + used, len - used, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64,
				 i == 0 ? "" : ",", p->e[i].domain, p->e[i].server, p->e[i].seq);
		if (n < 0 || (size_t)n >= len - used) {
			buf[0] = '\0';
			return RW_E_LIMIT;
		}
		used += (size_t)n;
	}
	return (int)used;
}

/*
 * Whether the transaction gtid ("D-S-N" on MariaDB, "UUID:N" on MySQL) is in
 * pos, what a replica applied (MariaDB gtid_slave_pos, MySQL gtid_executed):
 * 1 yes, 0 no, -1 not known.
 */
int gtid_applied(const char *gtid, const char *pos)
{
	unsigned long long d, srv, n, pd, ps, pn, lo, hi;
	const char *colon, *p;
	size_t ulen;
	int used;

	if (gtid == NULL || pos == NULL || gtid[0] == '\0')
		return -1;
	if (sscanf(gtid, "%llu-%llu-%llu%n", &d, &srv, &n, &used) == 3 && gtid[used] == '\0') {
		for (p = pos; *p != '\0'; p += strcspn(p, ",")) {
			p += strspn(p, ", \n");
			if (sscanf(p, "%llu-%llu-%llu", &pd, &ps, &pn) == 3 && pd == d)
				return pn >= n;
		}
		return 0;
	}
	if ((colon = strrchr(gtid, ':')) == NULL || sscanf(colon + 1, "%llu", &n) != 1)
		return -1;
	ulen = (size_t)(colon - gtid);
	if (memchr(gtid, ':', ulen) != NULL)
		return -1; /* a tagged GTID (uuid:tag:N, MySQL 8.3+): not read here */
	for (p = pos; *p != '\0'; p += strcspn(p, ",")) {
		p += strspn(p, ", \n");
		if (strncasecmp(p, gtid, ulen) != 0 || p[ulen] != ':')
			continue;
		for (p += ulen; *p == ':'; p += strcspn(p + 1, ":,") + 1) {
			if (sscanf(p + 1, "%llu", &lo) != 1)
				return -1;
			hi = lo;
			if (sscanf(p + 1, "%*u-%llu", &hi) != 1)
				hi = lo;
			if (n >= lo && n <= hi)
				return 1;
		}
		return 0;
	}
	return 0;
}
