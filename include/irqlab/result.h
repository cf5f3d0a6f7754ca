/* One result row of an experiment, the same for `irqlab bench` (measured)
 * and irqlab-sim (modelled), and the writers for table, JSON and CSV.
 * A field that could not be obtained is NAN (numbers) and printed as
 * "n/a"/null, never as zero. The JSON schema is docs/result-schema.md. */
#ifndef IRQLAB_RESULT_H
#define IRQLAB_RESULT_H

#include <stdio.h>

struct il_result {
	char mode[32];		/* mode name as in mode.h, or a custom label */
	char kind[16];		/* "closed" or "open" */
	char source[16];	/* "measured" or "simulated" */
	int rep;		/* repetition index */
	double target_qps;	/* open loop; 0 for closed loop */
	double qps;		/* achieved */
	double p50_us, p95_us, p99_us;
	/* server CPU shares, percent of the server's cores, sum to 100 */
	double cpu_user, cpu_sys, cpu_softirq, cpu_idle;
	double irq_per_s, softirq_per_s;	/* NET_RX softirqs, server CPUs */
	double cs_per_s;			/* server context switches */
	double busy_polled;			/* packets, whole run */
	double ipc, cpq, ipq;			/* NAN when not available */
	double gen_cpu;				/* generator CPU, percent of one core */
	double noise_cpu;			/* CPU% of processes not ours */
	int flagged;				/* noisy or saturated run */
	/* Added by bench; NAN/"" when a producer does not fill them. */
	char server[16];	/* "irqlab-kv", "memcached", "sim" */
	double duration_s;	/* measured interval */
	double requests;	/* completed requests in the interval */
	double errors;		/* failed/timed-out requests */
	double gen_irq_per_s, gen_softirq_per_s; /* same counters, generator CPU */
	double cycles, instructions;		/* server CPU, whole run */
	char note[64];		/* why flagged, free text, "" if none */
	/* Virtual machines (irqlab-sim with a [vm] setup); NAN otherwise. */
	double vm_exits_per_s;			/* all reasons, app vCPUs */
	double vm_exits_extint_per_s, vm_exits_eoi_per_s, vm_exits_hlt_per_s;
	double vm_exits_io_per_s, vm_exits_timer_per_s, vm_exits_ipi_per_s;
	double time_in_guest_pct;		/* app vCPUs' time in guest mode */
	double injected_irq_per_s;		/* virtual interrupts delivered */
	double host_net_cpu;			/* host NIC IRQ/softirq + vhost,
						 * percent of one core */
};

void il_result_init(struct il_result *r);	/* numbers NAN, strings "" */

/* Server CPU busy share (100 - idle), NAN if unknown. */
double il_result_busy(const struct il_result *r);

void il_result_table_header(FILE *f);
void il_result_table_row(FILE *f, const struct il_result *r);
void il_result_csv_header(FILE *f);
void il_result_csv_row(FILE *f, const struct il_result *r);
/* The version of the row format, written as "schema" in every JSON row.
 * Adding a field keeps it (readers ignore fields they do not know); a
 * field that changes meaning or unit bumps it, and a reader refuses rows
 * newer than it knows. */
#define IL_RESULT_SCHEMA 1

/* Writes a JSON array of rows, one per line (schema: docs/result-schema.md). */
void il_result_json(FILE *f, const struct il_result *rows, int n);
/* Reads such an array back (from bench, irqlab-sim or this writer): *rows is
 * malloc'd, *n its length. Missing fields stay unknown (NAN/""), unknown
 * fields are ignored, a row without "schema" is version 1. Returns 0, or -1
 * with "line N, column C: why" (syntax, from jansson) or "row N: field:
 * why" (a wrong type, a newer schema) in err. */
int il_result_parse_json(const char *text, struct il_result **rows, int *n,
			 char *err, size_t len);

/* Writes s as a JSON string literal (quotes, escapes as jansson writes
 * them; bytes that are not UTF-8 become '?'), for JSON printed by hand. */
void il_json_str(FILE *f, const char *s);

#endif
