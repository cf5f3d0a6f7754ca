/* IRQ affinity and RPS against a fake /proc and /sys in a temp dir: queue ->
 * IRQ from /proc/interrupts names, writes with the old values recorded,
 * restore newest first, the undo commands. No real IRQ is touched. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "irqlab/guard.h"
#include "irqlab/nic.h"
#include "irqlab/report.h"
#include "tap.h"

static char root[256];

static void put(const char *rel, const char *content)
{
	char path[512], dir[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	il_mkdir_p(dir);
	f = fopen(path, "w");
	if (!f) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
	fputs(content, f);
	fclose(f);
}

/* A file's content without the trailing newline ("" if missing). */
static const char *get(const char *rel)
{
	static char buf[256];
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	buf[0] = '\0';
	if ((f = fopen(path, "r"))) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* Interrupt names of four drivers' styles, and lines that must not match:
 * a transmit-only vector, another device whose name starts the same, the
 * non-numbered summary rows. */
static const char interrupts[] =
"           CPU0       CPU1\n"
"  0:         40          0   IO-APIC   2-edge      timer\n"
" 40:        100        200   PCI-MSI 524288-edge      fk0-TxRx-0\n"
" 41:        100        200   PCI-MSI 524289-edge      fk0-TxRx-1\n"
" 42:          0          0   PCI-MSI 524290-edge      fk0-tx-2\n"
" 43:          5          0   PCI-MSI 524291-edge      i40e-fk0-TxRx-2\n"
" 44:          5          0   PCI-MSI 524292-edge      fk01-rx-3\n"
" 45:          5          0   PCI-MSI 524293-edge      fk0-rx-3\n"
" 46:          5          0   PCI-MSI 524294-edge      fk1\n"
"NMI:          0          0   Non-maskable interrupts\n"
"LOC:       1000       1000   Local timer interrupts\n";

static void make_tree(void)
{
	char rel[128];

	put("proc/interrupts", interrupts);
	for (int irq = 40; irq <= 46; irq++) {
		snprintf(rel, sizeof(rel), "proc/irq/%d/smp_affinity_list", irq);
		put(rel, "0-1\n");
	}
	for (int q = 0; q < 5; q++) {
		snprintf(rel, sizeof(rel), "sys/class/net/fk0/queues/rx-%d/rps_cpus", q);
		put(rel, "00000000\n");
	}
	put("sys/class/net/fk0/queues/tx-0/xps_cpus", "0\n");
	put("sys/class/net/fk1/queues/rx-0/rps_cpus", "0\n");
}

static void test_queues(void)
{
	struct il_nic_queue q[8];
	char err[256] = "";
	int n = il_nic_queues("fk0", q, 8, err, sizeof(err));

	is_int(n, 5, "five rx queues, the tx queue not counted");
	if (n != 5)
		return;
	ok(q[0].index == 0 && q[4].index == 4, "sorted by index");
	is_int(q[0].irq, 40, "rx-0: fk0-TxRx-0");
	is_int(q[1].irq, 41, "rx-1: fk0-TxRx-1");
	is_int(q[2].irq, 43, "rx-2: i40e-fk0-TxRx-2, not the tx-only fk0-tx-2");
	is_int(q[3].irq, 45, "rx-3: fk0-rx-3, not fk01-rx-3");
	is_int(q[4].irq, -1, "rx-4: no IRQ");
	is_str(q[0].irq_from, "/proc/interrupts", "found through /proc/interrupts");
	is_str(q[2].irq_name, "i40e-fk0-TxRx-2", "the IRQ's name");
	is_str(q[0].affinity, "0-1", "affinity read");
	is_str(q[4].rps, "00000000", "rps_cpus read");

	n = il_nic_queues("fk1", q, 8, err, sizeof(err));
	ok(n == 1 && q[0].irq == 46, "a bare device name is its only queue's IRQ");
	n = il_nic_queues("nope", q, 8, err, sizeof(err));
	is_int(n, -ENODEV, "unknown device");
	ok(strstr(err, "no device 'nope'") != NULL, "unknown device in words: %s",
	   err);
}

static void test_writes(void)
{
	char err[256] = "", undo[400], want[512];

	is_int(il_nic_irq_pin(40, "1", err, sizeof(err)), 0, "pin IRQ 40 to CPU 1");
	is_str(get("proc/irq/40/smp_affinity_list"), "1", "affinity written");
	is_int(il_nic_rps_set("fk0", 1, "0", err, sizeof(err)), 0, "rps off rx-1");
	is_str(get("sys/class/net/fk0/queues/rx-1/rps_cpus"), "0", "rps written");
	is_int(il_nic_saved_count(), 2, "two old values recorded");
	is_int(il_nic_irq_pin(40, "0", err, sizeof(err)), 0, "pin IRQ 40 again");
	is_int(il_nic_saved_count(), 2, "a second change keeps the first old value");

	il_nic_saved_undo(0, undo, sizeof(undo));
	snprintf(want, sizeof(want), "echo 0-1 > %s/proc/irq/40/smp_affinity_list",
		 root);
	is_str(undo, want, "undo command of the first record");

	is_int(il_nic_irq_pin(99, "1", err, sizeof(err)), -ENOENT, "no IRQ 99");
	ok(strstr(err, "no IRQ 99") != NULL, "missing IRQ in words: %s", err);
	is_int(il_nic_rps_set("fk0", 9, "0", err, sizeof(err)), -ENOENT,
	       "no rx-9");
	ok(strstr(err, "fk0 rx queue 9 has no RPS setting") != NULL,
	   "missing queue in words: %s", err);
	is_int(il_nic_saved_count(), 2, "failed changes record nothing");

	is_int(il_nic_restore_all(), 0, "restore");
	is_str(get("proc/irq/40/smp_affinity_list"), "0-1", "affinity restored");
	is_str(get("sys/class/net/fk0/queues/rx-1/rps_cpus"), "00000000",
	       "rps restored");
	is_int(il_nic_saved_count(), 0, "nothing left to restore");
	is_int(il_nic_restore_all(), 0, "restore again is a no-op");
}

/* A whole case on a device without ethtool settings: one queue's IRQ per
 * core and RPS off, through il_nic_apply (the agent's entry point). */
static void test_case(void)
{
	static const int cpus[] = { 1, 0 };
	struct il_nic_case c = { .irq_cpus = cpus, .n_irq_cpus = 2, .rps_off = true };
	char err[256] = "";

	put("sys/class/net/fk0/queues/rx-4/rps_cpus", "00000003\n");
	/* rx-4 has no IRQ: the case cannot be applied as asked. */
	is_int(il_nic_apply("fk0", &c, err, sizeof(err)), -ENOENT,
	       "a queue without an IRQ stops the case");
	ok(strstr(err, "rx queue 4: no IRQ found") != NULL, "in words: %s", err);
	is_str(get("proc/irq/45/smp_affinity_list"), "0", "rx-3 pinned before");
	il_nic_restore_all();
	is_str(get("proc/irq/45/smp_affinity_list"), "0-1",
	       "the part already applied is undone");

	{
		char more[sizeof(interrupts) + 64];

		snprintf(more, sizeof(more), "%s 47: 0 0 PCI-MSI 1-edge "
			 "fk0-TxRx-4\n", interrupts);
		put("proc/interrupts", more);
	}
	put("proc/irq/47/smp_affinity_list", "0-1\n");
	is_int(il_nic_apply("fk0", &c, err, sizeof(err)), 0, "the case applies");
	is_str(get("proc/irq/40/smp_affinity_list"), "1", "rx-0 on CPU 1");
	is_str(get("proc/irq/41/smp_affinity_list"), "0", "rx-1 on CPU 0");
	is_str(get("proc/irq/47/smp_affinity_list"), "1", "rx-4 on CPU 1 (4 mod 2)");
	is_str(get("sys/class/net/fk0/queues/rx-4/rps_cpus"), "0", "rx-4 RPS off");
	is_int(il_nic_saved_count(), 10, "5 affinities + 5 RPS values recorded");
	il_nic_restore_all();
	is_str(get("sys/class/net/fk0/queues/rx-4/rps_cpus"), "00000003",
	       "rx-4 RPS restored");
	is_str(get("proc/irq/47/smp_affinity_list"), "0-1", "rx-4 IRQ restored");
}

/* Every change also went to the restore guard (the backstop for SIGKILL):
 * its copy alone puts a file back. */
static void test_guard(void)
{
	char err[256] = "";
	int n;

	is_int(il_nic_irq_pin(40, "1", err, sizeof(err)), 0, "pin IRQ 40 once more");
	ok(il_guard_pid() > 0, "a restore guard runs (pid %d)", il_guard_pid());
	n = il_guard_restore(IL_GUARD_FILE, err, sizeof(err));
	ok(n > 0, "the guard restored %d files %s", n, err);
	is_str(get("proc/irq/40/smp_affinity_list"), "0-1",
	       "the guard's record put the affinity back");
	il_nic_keep_all();
	is_int(il_nic_saved_count(), 0, "keep: nothing left here");
}

int main(void)
{
	char cmd[300];

	snprintf(root, sizeof(root), "%s/irqlab-nic-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		tap_skip_all("cannot make a temp dir");
	make_tree();
	il_nic_set_root(root);
	test_queues();
	test_writes();
	test_case();
	test_guard();
	is_int(il_nic_irqbalance_pid(), 0, "no irqbalance in the fake /proc");
	put("proc/4242/comm", "irqbalance\n");
	is_int(il_nic_irqbalance_pid(), 4242, "irqbalance found by its comm");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", root);
	return tap_done();
}
