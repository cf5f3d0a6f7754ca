/* The per-thread engine. Closed loop: every connection keeps --depth
 * requests outstanding and refills as replies arrive. Open loop: one
 * schedule per thread, absolute times origin + sum of inter-arrival
 * samples (no drift), each due request goes to the next connection with a
 * free slot; if none is free the schedule keeps running and the request
 * waits, so its latency (from the scheduled time) includes that wait: no
 * coordinated omission. The thread sleeps until the next send time or a
 * reply, with a nanosecond timeout and 1 ns timer slack; all sends due at a
 * wake-up go out together. Two I/O engines: epoll (here: epoll_pwait2, one
 * send per connection per batch, one recv per readable event) and io_uring
 * (uring.c: the sends of a batch, the wait and the re-armed recvs in one
 * io_uring_enter). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define MAX_EVENTS 256

volatile int load_stop;

static void thread_cpu(double cpu[2])
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	cpu[0] = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
	cpu[1] = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static uint64_t syscalls(const struct thread *t)
{
	return t->tot.reads + t->tot.writes + t->tot.waits;
}

void lconn_done(struct thread *t, const struct req *rq, int result, uint64_t now,
		uint64_t kts)
{
	struct lstats *st = &t->st;
	int op = rq->op;

	switch (result) {
	case R_HIT:
	case R_MISS:
		t->tot.gets++;
		t->tot.misses += result == R_MISS;
		break;
	case R_STORED:
	case R_NOT_STORED:
		t->tot.sets++;
		t->tot.set_failed += result == R_NOT_STORED;
		break;
	default:
		t->tot.errors++;
		break;
	}
	t->progress++;
	if (!rq->measured)
		return;
	if (result == R_ERROR) {
		st->errors++;
		return;
	}
	if (op == OP_GET) {
		st->gets++;
		st->misses += result == R_MISS;
	} else {
		st->sets++;
		st->set_failed += result == R_NOT_STORED;
	}
	il_hist_record(st->lat[op][IL_LAT_CORRECTED], now > rq->sched ? now - rq->sched : 0);
	il_hist_record(st->lat[op][IL_LAT_UNCORRECTED], now > rq->sent ? now - rq->sent : 0);
	if (!kts) {
		st->unstamped += t->c_tstamp;
		if (!t->c_tstamp)
			checks_record(t, op, now > rq->sched ? now - rq->sched : 0, now);
		return;
	}
	st->stamped++;
	/* --tx-stamps: from the kernel's send stamp in closed loop (due when
	 * sent) and for the uncorrected latency; the schedule stays the
	 * start of the corrected one in open loop */
	uint64_t from = rq->sched, sent = rq->sent;
	if (rq->ktx) {
		st->tx_stamped++;
		il_hist_record(st->tx_delay, rq->ktx > rq->sent ? rq->ktx - rq->sent : 0);
		from = rq->sched == rq->sent ? rq->ktx : rq->sched;
		sent = rq->ktx;
	}
	checks_record(t, op, kts > from ? kts - from : 0, now);
	il_hist_record(st->lat[op][IL_LAT_KERNEL], kts > from ? kts - from : 0);
	il_hist_record(st->lat[op][IL_LAT_KERNEL_UNCORRECTED], kts > sent ? kts - sent : 0);
	il_hist_record(st->rx_delay, now > kts ? now - kts : 0);
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few brackets:
 * kernel receive stamps are REALTIME, the schedule is MONOTONIC. */
static int64_t rt_offset(void)
{
	int64_t best = 0, gap = INT64_MAX;

	for (int i = 0; i < 5; i++) {
		struct timespec rt;
		uint64_t a = il_now_ns(), b;

		clock_gettime(CLOCK_REALTIME, &rt);
		b = il_now_ns();
		if ((int64_t)(b - a) < gap) {
			gap = (int64_t)(b - a);
			best = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec - (int64_t)(a + (b - a) / 2);
		}
	}
	return best;
}

int thread_setup(struct thread *t, char *err, size_t errlen)
{
	const struct il_load_opts *o = t->o;
	unsigned depth = o->depth > o->preload_depth ? o->depth : o->preload_depth;

	il_rng_seed(&t->rng, o->seed * 1000003u + (uint64_t)t->id);
	t->rt_off = rt_offset();
	t->c_tstamp = o->timestamps != IL_TSTAMP_OFF;
	if (lstats_init(&t->st) < 0 || checks_init(t) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->conns = calloc(t->nconns, sizeof(*t->conns));
	t->dirty = calloc(t->nconns, sizeof(*t->dirty));
	if (!t->conns || !t->dirty) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (t->env->engine == IL_ENGINE_URING) {
		if (uring_setup(t, err, errlen) < 0)
			return -1;
	} else if ((t->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	if (o->qps > 0) {
		/* Each thread carries qps/threads; the distribution keeps its
		 * shape, scaled to that mean gap in ns. */
		t->ia = o->ia;
		il_dist_set_mean(&t->ia, 1e9 * o->threads / o->qps);
	}
	for (unsigned i = 0; i < t->nconns; i++) {
		struct lconn *c = &t->conns[i];
		unsigned gid = t->id * t->nconns + i;
		const struct server *sv = &t->env->servers[gid % o->nservers];
		/* Edge-triggered: a level-triggered fd is polled again on
		 * every epoll_wait after it was reported, once per request. */
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
		char cerr[200];

		if (lconn_init(c, t, (int)i, depth) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->meta = o->meta;
		/* Keys are sharded over servers by key % S, like a client
		 * library would; the connections to server s split its keys
		 * for the preload. */
		{
			unsigned S = (unsigned)o->nservers, all = o->threads * t->nconns;
			uint64_t rank = gid / S, cnt = (all - gid % S + S - 1) / S;

			c->server = gid % S;
			c->pnext = c->server + S * rank;
			c->pstep = S * cnt;
		}
		if (lconn_connect(c, &sv->sa, sv->salen, (int)(o->timeout * 1000), cerr,
				 sizeof(cerr)) < 0) {
			snprintf(err, errlen, "server %s: %s", sv->name, cerr);
			return -1;
		}
		if (lconn_timestamps(c, o->timestamps, o->tx_stamps, cerr, sizeof(cerr)) < 0) {
			snprintf(err, errlen, "--timestamps: %s", cerr);
			return -1;
		}
		ev.data.ptr = c;
		if (t->ring) {
			uring_arm(t, c);
			continue;
		}
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
			return -1;
		}
	}
	/* Without this the kernel may fire our timeouts up to 50 us late. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	return 0;
}

void thread_stop_io(struct thread *t)
{
	if (t->ring)
		uring_stop(t);
}

void thread_teardown(struct thread *t)
{
	thread_stop_io(t);
	for (unsigned i = 0; t->conns && i < t->nconns; i++)
		lconn_free(&t->conns[i]);
	free(t->conns);
	free(t->dirty);
	t->conns = NULL;
	t->dirty = NULL;
	if (t->ep >= 0)
		close(t->ep);
	t->ep = -1;
	lstats_free(&t->st);
	checks_free(t);
}

void lconn_fail(struct thread *t, struct lconn *c, const char *msg)
{
	if (!strncmp(msg, "protocol error", 14))
		t->tot.proto_errors++;
	else
		t->tot.conn_errors++;
	t->tot.timeouts += c->n;	/* their replies will never come */
	if (!t->err[0])
		snprintf(t->err, sizeof(t->err), "connection %d: %s", c->id, msg);
	if (t->ring)	/* ends the recv in flight: its buffer stays ours */
		shutdown(c->fd, SHUT_RDWR);
	else
		epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->dead = 1;
	c->n = 0;
}

static void arm_out(struct thread *t, struct lconn *c, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET | (on ? EPOLLOUT : 0), .data.ptr = c };

	if (c->out_armed == on)
		return;
	c->out_armed = on;
	epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
	t->tot.waits++;		/* an epoll call too: counted with the waits */
}

/* One send per connection that got requests in this batch (io_uring:
 * queued, they leave with the next wait). */
static void flush_all(struct thread *t)
{
	uint64_t now = il_now_ns();

	for (unsigned i = 0; i < t->nd; i++) {
		struct lconn *c = t->dirty[i];

		c->dirty = 0;
		if (c->dead)
			continue;
		if (t->ring) {
			uring_flush(t, c, now);
			continue;
		}
		if (lconn_flush(c, now) < 0) {
			lconn_fail(t, c, strerror(errno));
			continue;
		}
		arm_out(t, c, c->wlen != 0);
	}
	t->nd = 0;
}

static void mark(struct thread *t, struct lconn *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		t->dirty[t->nd++] = c;
	}
}

static unsigned outstanding(const struct thread *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nconns; i++)
		n += t->conns[i].n;
	return n;
}

static void window(struct thread *t, uint64_t now)
{
	if (!t->in_window && now >= t->t_meas) {
		t->in_window = 1;
		t->sys0 = syscalls(t);
		thread_cpu(t->cpu0);
	}
	if (!t->past_window && now >= t->t_end) {
		t->past_window = 1;
		t->sys1 = syscalls(t);
		thread_cpu(t->cpu1);
	}
}

/* The key's shard must be the connection's server: move the key to the
 * nearest one of that server (a no-op with one server). */
static uint64_t shard(const struct thread *t, const struct lconn *c, uint64_t key)
{
	uint64_t S = (uint64_t)t->o->nservers, k;

	if (S == 1)
		return key;
	k = key - key % S + c->server;
	return k < t->w->records ? k : k - S;
}

/* Closed loop: top a connection up to --depth. sched 0: stamped at send. */
static void fill(struct thread *t, struct lconn *c, uint64_t now)
{
	int measured = now >= t->t_meas && now < t->t_end;

	while (!c->dead && c->n < t->o->depth) {
		enum op op;
		uint64_t key;
		uint32_t vlen;

		workload_next(t->w, &t->rng, &op, &key, &vlen);
		if (lconn_add(c, t->w, op, shard(t, c, key), vlen, 0, measured) < 0)
			break;
		t->st.sent += measured;
	}
}

static struct lconn *free_conn(struct thread *t)
{
	for (unsigned k = 0; k < t->nconns; k++) {
		struct lconn *c = &t->conns[t->rr];

		t->rr = (t->rr + 1) % t->nconns;
		if (!c->dead && c->n < t->o->depth)
			return c;
	}
	return NULL;
}

/* Open loop: send everything that is due and has a free connection. */
static void send_due(struct thread *t, uint64_t now)
{
	int was_blocked = t->blocked;
	uint64_t late = (uint64_t)(t->o->late_us * 1000);

	while (t->next_sched <= (double)now && t->next_sched < (double)t->t_end) {
		uint64_t sched = (uint64_t)t->next_sched, key;
		struct lconn *c = free_conn(t);
		int measured = sched >= t->t_meas;
		enum op op;
		uint32_t vlen;

		if (!c) {
			t->blocked = 1;	/* the server holds every slot */
			return;
		}
		workload_next(t->w, &t->rng, &op, &key, &vlen);
		if (lconn_add(c, t->w, op, shard(t, c, key), vlen, sched, measured) < 0) {
			t->blocked = 1;
			return;
		}
		mark(t, c);
		if (measured) {
			t->st.sent++;
			checks_send(t, now);
			il_hist_record(t->st.lag, now - sched);
			/* Lateness while a slot was free is the generator's. */
			if (!was_blocked && now - sched > late)
				t->st.late++;
		}
		t->next_sched += il_dist_sample(&t->ia, &t->rng);
	}
	t->blocked = 0;
}

/* epoll_pwait2 (Linux 5.11) takes a nanosecond timeout; where it is missing
 * (old kernels, valgrind) epoll_wait rounds up to whole milliseconds. */
static int have_pwait2 = 1;

static int wait_events(struct thread *t, struct epoll_event *ev, uint64_t now, uint64_t until)
{
	struct timespec ts = { 0, 0 };
	uint64_t d = until > now ? until - now : 0;
	int n;

	ts.tv_sec = (time_t)(d / 1000000000ULL);
	ts.tv_nsec = (long)(d % 1000000000ULL);
	t->tot.waits++;
	if (have_pwait2) {
		n = epoll_pwait2(t->ep, ev, MAX_EVENTS, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n < 0 ? 0 : n;
		have_pwait2 = 0;
	}
	n = epoll_wait(t->ep, ev, MAX_EVENTS, (int)((d + 999999) / 1000000));
	return n < 0 ? 0 : n;
}

void thread_progress(struct thread *t, struct lconn *c)
{
	if (c->dead)
		return;
	if (t->closed && t->sending)
		fill(t, c, il_now_ns());
	if (c->wreqs || c->woff < c->wlen)
		mark(t, c);
}

static void handle(struct thread *t, struct epoll_event *e)
{
	struct lconn *c = e->data.ptr;
	char err[200];

	if (c->dead)
		return;
	if (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		int rc, rounds = 0;

		/* Edge-triggered: read until a read comes back short. */
		while ((rc = lconn_read(c, err, sizeof(err))) == 1 && ++rounds < 100000)
			;
		if (rc < 0) {
			lconn_fail(t, c, err);
			return;
		}
		thread_progress(t, c);
	}
	if ((e->events & EPOLLOUT) && c->wlen)
		mark(t, c);
}

void thread_woke(struct thread *t)
{
	uint64_t d = (uint64_t)(t->o->wake_delay_us * 1000), end;

	if (!d)
		return;
	/* Spun, not slept: a sleep would add the wake-up latency again. */
	for (end = il_now_ns() + d; il_now_ns() < end;)
		;
}

/* Sleeps until a reply or `until`, handles what came. */
static void io_wait(struct thread *t, uint64_t until)
{
	struct epoll_event ev[MAX_EVENTS];
	int n;

	if (t->ring) {
		uring_wait(t, il_now_ns(), until);
		return;
	}
	n = wait_events(t, ev, il_now_ns(), until);
	thread_woke(t);
	for (int i = 0; i < n; i++)
		handle(t, &ev[i]);
}

int thread_run(struct thread *t)
{
	unsigned live = 0;
	int closed = !(t->o->qps > 0);
	struct timespec at = { (time_t)(t->origin / 1000000000ULL),
			       (long)(t->origin % 1000000000ULL) };
	uint64_t now;

	/* every thread starts on the origin's tick (--start-at: across hosts) */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
	now = il_now_ns();
	t->next_sched = (double)t->origin;
	t->bat.t0 = t->t_meas;
	t->closed = closed;
	if (closed)
		for (unsigned i = 0; i < t->nconns; i++) {
			fill(t, &t->conns[i], now);
			mark(t, &t->conns[i]);
		}
	for (;;) {
		int sending;
		uint64_t until;

		now = il_now_ns();
		if (load_stop && now < t->t_end) {	/* interrupted: report what we have */
			t->t_end = now > t->t_meas ? now : t->t_meas;
			t->t_deadline = now + (uint64_t)(t->o->timeout * 1e9);
		}
		window(t, now);
		if (now >= t->t_deadline)
			break;
		sending = closed ? now < t->t_end : t->next_sched < (double)t->t_end;
		t->sending = sending;
		if (!closed && sending)
			send_due(t, now);
		if (t->nd)
			flush_all(t);
		live = 0;
		for (unsigned i = 0; i < t->nconns; i++)
			live += !t->conns[i].dead;
		if (!live || (!sending && !outstanding(t)))
			break;
		if (!closed && sending && !t->blocked) {
			uint64_t spin = (uint64_t)(t->o->spin_us * 1000), at = il_now_ns();

			until = (uint64_t)t->next_sched;
			/* --spin-us: wake that much early, then poll without
			 * sleeping (replies still handled) until the send time:
			 * exact schedules for a core's worth of CPU. */
			if (spin)
				until = until > at + spin ? until - spin : at;
		} else if (sending)
			until = t->t_end;
		else
			until = t->t_deadline;
		if (!t->past_window && until > t->t_end)
			until = t->t_end;
		/* --batch: a batch that does not fill ends after --batch-us */
		if (t->o->batch > 1 && until > now + (uint64_t)(t->o->batch_us * 1000))
			until = now + (uint64_t)(t->o->batch_us * 1000);
		io_wait(t, until);
	}
	t->rt_off_end = rt_offset();
	window(t, t->t_end > now ? t->t_end : now);
	if (!t->past_window) {	/* everything died early */
		t->past_window = 1;
		t->sys1 = syscalls(t);
		thread_cpu(t->cpu1);
	}
	t->tot.timeouts += outstanding(t);
	/* Scheduled requests the deadline left unsent are part of the
	 * measurement too: count them rather than let them vanish. */
	for (long i = 0; !closed && i < 100000000L && t->next_sched < (double)t->t_end; i++) {
		t->tot.unsent += t->next_sched >= (double)t->t_meas;
		t->next_sched += il_dist_sample(&t->ia, &t->rng);
	}
	return live ? 0 : -1;
}

/* Preload: sets for this thread's slice of records, pipelined. */
int thread_preload(struct thread *t)
{
	unsigned depth = t->o->preload_depth;
	uint64_t deadline = il_now_ns() + (uint64_t)(60 + t->o->records / 5000) * 1000000000ULL;

	t->closed = t->sending = 0;
	for (;;) {
		int busy = 0, live = 0, left = 0;

		for (unsigned i = 0; i < t->nconns; i++) {
			struct lconn *c = &t->conns[i];

			if (c->dead)
				continue;
			live++;
			while (c->n < depth && c->pnext < t->w->records) {
				uint32_t vlen = workload_value_len(t->w, &t->rng);

				if (lconn_add(c, t->w, OP_SET, c->pnext, vlen, 0, 0) < 0)
					break;
				c->pnext += c->pstep;
				mark(t, c);
			}
			busy += c->n;
			left += c->pnext < t->w->records;
		}
		if (t->nd)
			flush_all(t);
		if (!live)
			return -1;
		if (!busy && !left)
			return 0;
		if (il_now_ns() >= deadline) {
			snprintf(t->err, sizeof(t->err), "preload did not finish in time");
			t->tot.timeouts += outstanding(t);
			return -1;
		}
		io_wait(t, deadline);
	}
}
