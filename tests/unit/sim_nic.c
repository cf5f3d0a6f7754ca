/* NIC: hardware coalescing fires after rx-frames or rx-usecs, whichever
 * comes first; a full ring drops and counts; transmit completions (mlx5's
 * TX CQ on the queue's vector) fire after tx-usecs or tx-frames while
 * armed, and the NAPI poll reaps them. */
#include "sim_harness.h"

static void frames_first(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 100\nrx_frames = 4\n"))
		return;
	for (int i = 0; i < 4; i++)
		harness_inject(&s, (sim_t)i * 1000, 0);
	sim_run_until(&s, 2999);
	is_int(s.nq[0].irqs, 0, "3 frames, 3 us: no interrupt yet");
	sim_run_until(&s, 3000);
	is_int(s.nq[0].irqs, 1, "4th frame (rx-frames 4) fires at once");
	/* later: 2 frames, the 100 us timer decides */
	harness_inject(&s, 500000, 0);
	harness_inject(&s, 501000, 0);
	sim_run_until(&s, 599999);
	is_int(s.nq[0].irqs, 1, "2 frames: nothing before rx-usecs");
	sim_run_until(&s, 600000);
	is_int(s.nq[0].irqs, 2, "fires rx-usecs (100 us) after the first frame");
	sim_run_until(&s, 2000000);
	is_int(s.st.served_total, 6, "all 6 requests served");
	sim_free(&s);
}

static void usecs_first(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 10\nrx_frames = 64\n"))
		return;
	harness_inject(&s, 0, 0);
	harness_inject(&s, 2000, 0);
	harness_inject(&s, 4000, 0);
	sim_run_until(&s, 9999);
	is_int(s.nq[0].irqs, 0, "3 of 64 frames within 10 us: no interrupt");
	sim_run_until(&s, 10000);
	is_int(s.nq[0].irqs, 1, "fires at rx-usecs = 10 us");
	sim_free(&s);
}

static void no_coalescing(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\nrx_frames = 0\n"))
		return;
	harness_inject(&s, 0, 0);
	sim_run_until(&s, 0);
	is_int(s.nq[0].irqs, 1, "rx-usecs 0: first frame fires at once");
	ok(!s.nq[0].irq_armed, "vector stays quiet until the driver re-arms");
	sim_run_until(&s, 100000);
	ok(s.nq[0].irq_armed, "napi_complete_done re-armed it (base mode)");
	sim_free(&s);
}

static void ring_drops(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\nring_size = 4\n"))
		return;
	for (int i = 0; i < 10; i++)
		harness_inject(&s, 0, 0);
	sim_run_until(&s, 0);
	is_int(s.nq[0].pkts_in, 10, "10 frames arrived");
	is_int(s.nq[0].drops, 6, "ring of 4: 6 dropped");
	is_int(s.nq[0].rcount, 4, "4 in the ring");
	sim_run_until(&s, 1000000);
	is_int(s.st.served_total, 4, "the 4 ring frames served");
	sim_free(&s);
}

static void dim_moves(void)
{
	struct sim s;
	struct experiment e;

	/* saturating closed loop: DIM should climb to more moderation */
	if (harness_make(&s, &e, "[nic]\ncoalesce = adaptive\n[workload]\nconns = 256\n"
			 "[run]\ntime = 0.02\nwarmup = 0\n"))
		return;
	sim_free(&s);
	struct il_result r;
	ok(sim_experiment(&e, &r, NULL) == 0, "adaptive run");
	ok(r.irq_per_s < 0.3 * r.qps, "DIM: fewer than 0.3 IRQs per request at "
	   "saturation (%.0f IRQ/s, %.0f QPS)", r.irq_per_s, r.qps);
}

/* Runs until the n-th reply has left; returns that time. */
static sim_t until_served(struct sim *s, uint64_t n)
{
	while (s->st.served_total < n && s->now < 10000000)
		sim_run_until(s, s->now + 10);
	return s->now;
}

#define TX_CFG HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\nrx_frames = 0\ntx_irq = on\n" \
	"tx_coalesce = static\n"

static void tx_usecs(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, TX_CFG "tx_usecs = 16\ntx_frames = 32\n"))
		return;
	harness_inject(&s, 0, 0);
	sim_t t = until_served(&s, 1);
	is_int(s.nq[0].txc, 1, "tx: the reply's completion is in the TX CQ");
	is_int(s.nq[0].tx_irqs, 0, "tx: no TX interrupt at once (tx-usecs 16)");
	sim_run_until(&s, t + 15000);
	is_int(s.nq[0].tx_irqs, 0, "tx: none 15 us after the completion");
	sim_run_until(&s, t + 16010);
	is_int(s.nq[0].tx_irqs, 1, "tx: one at tx-usecs (16 us), on the queue's vector");
	ok(!s.nq[0].tx_armed, "tx: the TX CQ stays disarmed until napi_complete_done");
	sim_run_until(&s, t + 100000);
	is_int(s.nq[0].tx_reaped, 1, "tx: the NAPI poll it scheduled reaped the completion");
	ok(s.nq[0].tx_armed, "tx: re-armed at napi_complete_done");
	is_int(s.nq[0].irqs, 1, "tx: one RX interrupt");
	is_int(s.cores[0].irqs, 2, "tx: two hard IRQs on the core (RX, TX)");
	sim_free(&s);
}

static void tx_frames(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, TX_CFG "tx_usecs = 1000\ntx_frames = 2\n"))
		return;
	harness_inject(&s, 0, 0);
	harness_inject(&s, 0, 0);
	until_served(&s, 1);
	is_int(s.nq[0].tx_irqs, 0, "tx-frames 2: no interrupt after the first reply");
	until_served(&s, 2);
	is_int(s.nq[0].tx_irqs, 1, "tx-frames 2: the second completion fires at once");
	sim_free(&s);
}

static void tx_no_irq(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\nrx_frames = 0\n"
			 "tx_irq = off\n"))
		return;
	harness_inject(&s, 0, 0);
	sim_t t = until_served(&s, 1);
	sim_run_until(&s, t + 500000);
	is_int(s.nq[0].tx_irqs, 0, "tx_irq off: no TX interrupt");
	is_int(s.nq[0].txc, 1, "tx_irq off: the completion waits for the next poll");
	harness_inject(&s, t + 600000, 0);
	sim_run_until(&s, t + 700000);
	is_int(s.nq[0].tx_reaped, 1, "tx_irq off: ... which reaps it");
	is_int(s.cores[0].irqs, 2, "tx_irq off: only the two RX interrupts");
	sim_free(&s);
}

int main(void)
{
	tx_usecs();
	tx_frames();
	tx_no_irq();
	frames_first();
	usecs_first();
	no_coalescing();
	ring_drops();
	dim_moves();
	return tap_done();
}
