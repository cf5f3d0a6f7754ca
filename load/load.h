/* irqlab-load internals: per-thread state, connections. The program is
 * wrk-shaped: main.c parses the options (the table is in the library,
 * irqlab/load_opts.h) and starts one pinned thread per --threads; each
 * thread owns an I/O engine and its connections (schedule.c), connections
 * speak the memcached text protocol (conn.c), workload.c picks keys and
 * sizes, report.c merges the threads into the summary (irqlab/load_summary.h)
 * and prints it. Names: struct lconn is a load-generator connection (kv's
 * is struct conn), struct lstats a thread's measurements. */
#ifndef IRQLAB_LOAD_H
#define IRQLAB_LOAD_H

#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "irqlab/clock.h"
#include "irqlab/dist.h"
#include "irqlab/hist.h"
#include "irqlab/load_opts.h"
#include "irqlab/load_summary.h"

#define VALUE_MAX 1000000	/* fits memcached's default 1 MiB item */
#define KEY_MAX 250		/* memcached's limit */

enum op { OP_GET = IL_OP_GET, OP_SET = IL_OP_SET };

/* ---- workload.c ---------------------------------------------------- */
struct workload {
	uint64_t records;
	double update;			/* share of sets */
	struct il_dist keysize, valuesize;
	int zipf;			/* popularity: 0 uniform, 1 zipf */
	struct il_zipf z;
	unsigned min_keylen;		/* digits of records-1 */
	uint32_t value_max;
	char *value_data;		/* value_max+2 bytes of filler */
};

int workload_init(struct workload *w, char *err, size_t errlen);
void workload_free(struct workload *w);
/* Next request of the mix: op, record index, value length (sets). */
void workload_next(const struct workload *w, struct il_rng *r, enum op *op,
		   uint64_t *key, uint32_t *vlen);
uint32_t workload_value_len(const struct workload *w, struct il_rng *r);
/* Writes record idx's key (no terminator) into buf (>= 251 bytes). */
unsigned workload_key(const struct workload *w, uint64_t idx, char *buf);

/* ---- per-run statistics ------------------------------------------- */
struct lstats {
	/* per op, from the scheduled send (corrected) or the actual one
	 * (uncorrected), to the reply as user space saw it or as the kernel
	 * stamped it: [op][enum il_load_lat] */
	struct il_hist *lat[2][IL_NLATS];
	struct il_hist *lag;		/* actual send - scheduled, open loop */
	struct il_hist *rx_delay;	/* user-space - kernel stamp of a reply */
	uint64_t stamped, unstamped;	/* replies with / without a kernel stamp */
	struct il_hist *tx_delay;	/* kernel send stamp - user-space one */
	uint64_t tx_stamped;		/* replies whose request had one */
	uint64_t gets, sets, misses, errors, set_failed;
	uint64_t late;			/* sends later than --late-us */
	uint64_t sent;			/* requests sent in the window */
	uint64_t bytes_rx, bytes_tx;
};

/* Counted over the whole run (preload, warm-up, drain): they must match
 * the server's own `stats` deltas. */
struct totals {
	uint64_t gets, sets, misses, errors, set_failed;
	uint64_t proto_errors, timeouts, conn_errors;
	uint64_t unsent;		/* open loop: scheduled in the window, never sent */
	uint64_t reads, writes, waits;	/* system calls */
};

/* ---- conn.c -------------------------------------------------------- */
struct req {
	uint64_t sched, sent;		/* ns, CLOCK_MONOTONIC */
	uint64_t ktx;			/* --tx-stamps: the kernel's send stamp, 0 */
	uint32_t txkey;			/* stream offset of its last byte */
	uint8_t op, measured;
};

enum { P_LINE, P_DATA };

struct thread;

struct lconn {
	int fd, id, dead;
	int meta;			/* meta protocol (mg/ms) instead of get/set */
	unsigned server;		/* index into opts.servers */
	uint64_t pnext, pstep;		/* preload: next key, stride */
	struct thread *t;
	struct req *ring;		/* outstanding requests, FIFO */
	unsigned head, n, cap;
	char *rbuf;
	size_t rlen, rcap;
	int pstate, hit;
	uint64_t skip;
	char *wbuf;
	size_t wlen, woff, wcap;
	unsigned wreqs;			/* requests in wbuf not yet stamped */
	int out_armed, dirty;
	int sending, reading;		/* io_uring: a send / recv in flight */
	/* kernel receive stamps: recvmsg's header and control buffer (kept
	 * here: io_uring reads them while the recv is in flight), and the
	 * stamp of the last read (CLOCK_MONOTONIC ns, 0 = none) */
	struct msghdr msg;
	struct iovec iov;
	union {
		char buf[64];	/* >= CMSG_SPACE(scm_timestamping): checked in conn.c */
		size_t align;	/* cmsghdr alignment */
	} ctrl;
	uint64_t kts;
	int tstamp;			/* enum il_load_tstamp asked of the kernel */
	/* --tx-stamps: bytes queued since stamping began (TCP numbers its
	 * transmit stamps by the stream offset of a send's last byte), and
	 * the stamps read from the error queue, oldest first */
	int txstamps;
	uint32_t txend;
	struct { uint32_t key; uint64_t ns; } tx[32];
	unsigned txh, txn;
};

/* What a finished request reports to its thread: now is when user space saw
 * the reply, kts when the kernel received its last byte (0 if unknown). */
void lconn_done(struct thread *t, const struct req *rq, int result, uint64_t now,
		uint64_t kts);
enum { R_HIT, R_MISS, R_STORED, R_NOT_STORED, R_ERROR };

int lconn_init(struct lconn *c, struct thread *t, int id, unsigned depth);
void lconn_free(struct lconn *c);
int lconn_connect(struct lconn *c, const struct sockaddr_storage *sa,
		 socklen_t salen, int timeout_ms, char *err, size_t errlen);
/* Asks the kernel to stamp c's received data (SO_TIMESTAMPING, software
 * or NIC); 0 or -1 with why. */
int lconn_timestamps(struct lconn *c, enum il_load_tstamp how, int tx, char *err, size_t errlen);
/* --tx-stamps: reads the send stamps queued on c's error queue (which
 * also ends the EPOLLERR it raises). */
void lconn_tx_drain(struct lconn *c);
/* The msghdr for the next read into p[0..room) (control buffer cleared). */
struct msghdr *lconn_msg(struct lconn *c, char *p, size_t room);
/* Appends a request to the write buffer; the caller flushes once per batch. */
int lconn_add(struct lconn *c, const struct workload *w, enum op op,
	     uint64_t key, uint32_t vlen, uint64_t sched, int measured);
/* Writes what is buffered (one write); stamps the send time. 0 or -1. */
int lconn_flush(struct lconn *c, uint64_t now);
/* The pieces of lconn_flush for an engine that sends by itself: stamp the
 * requests added since the last stamp, account n bytes as sent. */
void lconn_stamp(struct lconn *c, uint64_t now);
void lconn_sent(struct lconn *c, size_t n);
/* Reads once and parses every complete reply in place; -1 on EOF or a
 * protocol error (message in err), 1 if the read filled the buffer (read
 * again: the socket is edge-triggered), else 0. */
int lconn_read(struct lconn *c, char *err, size_t errlen);
/* The pieces of lconn_read: where the next read goes and how much fits
 * (NULL and err on a reply line too long), then n bytes arrived there. */
char *lconn_rspace(struct lconn *c, size_t *room, char *err, size_t errlen);
int lconn_received(struct lconn *c, size_t n, char *err, size_t errlen);
/* Parses buffered bytes (exposed for the unit test). */
int lconn_parse(struct lconn *c, uint64_t now, char *err, size_t errlen);

/* ---- checks.c: the run cut into batches for self-checks ------------ */
#define LB_MAX 32
struct lbatches {
	pthread_mutex_t mu;	/* closing, doubling; the main thread reading */
	uint64_t t0, len;	/* window start; batch length, ns (doubles) */
	unsigned cur, closed;	/* the open batch; those before it are closed */
	struct il_hist *h[2][LB_MAX];	/* [op][batch]: the batched latency */
};

/* ---- schedule.c ---------------------------------------------------- */
/* What main made of the options: the servers resolved, the engine picked. */
struct server {
	char name[280];
	struct sockaddr_storage sa;
	socklen_t salen;
};

struct env {
	struct server servers[IL_LOAD_MAX_SERVERS];
	enum il_load_engine engine;	/* epoll or uring (auto resolved) */
};

struct thread {
	int id, cpu;
	const struct il_load_opts *o;
	const struct env *env;
	const struct workload *w;
	struct il_rng rng;
	int ep;				/* epoll engine */
	struct io_uring *ring;		/* io_uring engine (uring.c) */
	unsigned inflight;		/* io_uring requests not completed */
	unsigned usends;		/* io_uring sends queued since the last wait */
	struct lconn *conns;
	unsigned nconns, rr;
	struct lconn **dirty;		/* connections with requests to send */
	unsigned nd;
	int closed, sending;		/* closed loop; still adding requests */
	/* open loop */
	double next_sched;		/* ns since origin, absolute */
	struct il_dist ia;		/* per-thread inter-arrival, ns */
	int blocked;			/* due requests waited for a free slot */
	/* phases (absolute CLOCK_MONOTONIC ns) */
	uint64_t origin, t_meas, t_end, t_deadline;
	struct lstats st;
	struct totals tot;
	/* the measured window: syscalls and this thread's CPU (RUSAGE_THREAD)
	 * at its start and end */
	int in_window, past_window;
	/* kernel stamps are CLOCK_REALTIME: minus this they are MONOTONIC
	 * (measured at setup and at the end, to see a clock step) */
	int64_t rt_off, rt_off_end;
	int c_tstamp;			/* connections ask for kernel stamps */
	uint64_t sys0, sys1;
	double cpu0[2], cpu1[2];	/* user, sys seconds */
	volatile uint64_t progress;	/* completions, read by the progress line */
	struct lbatches bat;		/* checks.c */
	double *gaps;			/* sampled gaps between sends, ns */
	uint64_t gaps_seen, last_send;
	struct il_rng gap_rng;
	char err[256];
	int failed;
};

int thread_setup(struct thread *t, char *err, size_t errlen);
void thread_teardown(struct thread *t);
int thread_preload(struct thread *t);
int thread_run(struct thread *t);
/* Ends the I/O engine in the thread that ran it (io_uring needs that). */
void thread_stop_io(struct thread *t);
/* Engine callbacks: c has read or sent something (tops it up in closed
 * loop, queues what is unsent); c failed (closes it, counts what is lost). */
void thread_progress(struct thread *t, struct lconn *c);
void lconn_fail(struct thread *t, struct lconn *c, const char *msg);
/* Called by the engines right after a wait returns (--wake-delay-us). */
void thread_woke(struct thread *t);
/* Set by SIGINT/SIGTERM: threads end the window now and drain. */
extern volatile int load_stop;

/* ---- uring.c: the io_uring engine ---------------------------------- */
struct io_uring;

/* 0 if this kernel lets us use io_uring, else -1 and why. */
int uring_probe(char *why, size_t len);
int uring_setup(struct thread *t, char *err, size_t errlen);
/* Keeps a recv in flight on c. */
void uring_arm(struct thread *t, struct lconn *c);
/* Queues a send of c's buffered requests (stamped now). */
void uring_flush(struct thread *t, struct lconn *c, uint64_t now);
/* Submits what is queued, sleeps until a completion or `until` (absolute
 * ns), handles the completions. */
void uring_wait(struct thread *t, uint64_t now, uint64_t until);
/* Cancels what is in flight (bounded wait) and frees the ring. */
void uring_stop(struct thread *t);

/* ---- checks.c ------------------------------------------------------ */
int checks_init(struct thread *t);
void checks_free(struct thread *t);
/* A measured reply (op, the batched latency v, handled at now) and a
 * measured open-loop send at now. */
void checks_record(struct thread *t, int op, uint64_t v, uint64_t now);
void checks_send(struct thread *t, uint64_t now);
/* --ci, from the main thread during the run: 1 when p99's interval is
 * within target (a share of p99); its width in *width (NAN: not yet). */
int checks_ci_reached(struct thread *ts, unsigned n, double target, double *width);
/* After the run: intervals of every percentile and the checks, into s. */
void checks_fill(struct il_load_summary *s, const struct il_load_opts *o, struct thread *ts,
		 unsigned n);

/* ---- hwstamp.c ---------------------------------------------------- */
/* --timestamps hw: 0 if the device on the way to sv stamps received
 * packets in hardware now, else -1 and why (what to do). */
int hwstamp_check(const struct server *sv, char *err, size_t len);

/* ---- report.c ------------------------------------------------------ */
/* Merges the threads into s (config from o, engine from env; wall = the
 * measured window, s) with its warnings. 0, or -1 out of memory. */
int load_summarize(struct il_load_summary *s, const struct il_load_opts *o,
		   const struct env *env, struct thread *ts, unsigned n, double wall);
/* The one-screen table, in the spirit of mutilate's. */
void load_print_text(FILE *f, const struct il_load_summary *s);
int lstats_init(struct lstats *s);
void lstats_free(struct lstats *s);

#endif
