/* Inside the library only: what the NAPI files (napi.c, napi_probe.c,
 * napi_save.c, nl_netdev.c) share, and the netdev wire level that the unit
 * tests check byte by byte (tests/unit/lib_napi.c). Programs include
 * irqlab/napi.h, never this. */
#ifndef IRQLAB_NAPI_INT_H
#define IRQLAB_NAPI_INT_H

#include "irqlab/napi.h"
#include "irqlab/nl.h"

/* --- nl_netdev.c: one small function per netdev message ---------------- */

struct nlmsghdr;
enum il_nl_op {
	IL_OP_FAMILY, IL_OP_POLICY, IL_OP_NAPI_GET, IL_OP_NAPI_DUMP,
	IL_OP_QUEUE_DUMP, IL_OP_NAPI_SET,
};

struct nlmsghdr *il_nl_napi_get_req(void *buf, uint16_t family, uint32_t seq,
				    uint32_t id);
struct nlmsghdr *il_nl_napi_dump_req(void *buf, uint16_t family, uint32_t seq,
				     int ifindex);
struct nlmsghdr *il_nl_queue_dump_req(void *buf, uint16_t family, uint32_t seq,
				      int ifindex);
struct nlmsghdr *il_nl_napi_set_req(void *buf, uint16_t family, uint32_t seq,
				    uint32_t id, unsigned what,
				    const struct il_napi *val);

/* Command and attribute names, for the IRQLAB_NL_DEBUG dump. */
extern const struct il_nl_names il_netdev_names;

/* Parsers: 0, or -EBADMSG on a malformed or truncated message. */
int il_nl_parse_napi(const struct nlmsghdr *nlh, struct il_napi *n);
int il_nl_parse_queue(const struct nlmsghdr *nlh, struct il_queue *q);

/* The sentence a user reads for err from op (id/what/val may be 0/NULL). */
void il_nl_strerror(int err, enum il_nl_op op, uint32_t id, unsigned what,
		    const struct il_napi *val, const char *ext,
		    char *buf, size_t len);

/* --- napi.c ------------------------------------------------------------- */

/* il_nl_strerror into err, when err is given. */
void il_napi_err(char *err, size_t errlen, int rc, enum il_nl_op op,
		 uint32_t id, unsigned what, const struct il_napi *val,
		 const char *ext);

/* --- napi_probe.c ------------------------------------------------------- */

/* The running kernel's support, probed on first use. */
const struct il_napi_support *il_napi_support_once(void);

/* --- napi_save.c -------------------------------------------------------- */

/* Records the fields of cur named in what that are not saved yet; *added
 * says which, so a refused change can take them back (il_napi_unsave).
 * -ENOSPC past IL_NAPI_MAX NAPIs. */
int il_napi_save(const struct il_napi *cur, unsigned what, unsigned *added);
void il_napi_unsave(uint32_t id, unsigned added);

#endif
