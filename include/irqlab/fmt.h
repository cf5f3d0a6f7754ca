/* Number formatting for hot paths (replies, requests), where snprintf's
 * format parsing costs more than the digits. */
#ifndef IRQLAB_FMT_H
#define IRQLAB_FMT_H

#include <stdint.h>

/* Writes v in decimal at dst, no terminator; returns the end. */
static inline char *il_u64toa(uint64_t v, char *dst)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*dst++ = tmp[--n];
	return dst;
}

#endif
