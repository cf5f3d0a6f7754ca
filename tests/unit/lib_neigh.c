/* il_neigh_scan_file: which /proc/net/tcp and udp lines count as sockets
 * that may share a device's NAPI (irqlab/neigh.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "irqlab/neigh.h"
#include "tap.h"

static const char tcp[] =
"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
/* 198.18.0.1:11212 listening (memcached), inode 100 */
"   0: 010012C6:2BCC 00000000:0000 0A 00000000:00000000 00:00000000 00000000   65534        0 100 1 0000000000000000 100 0 0 10 0\n"
/* our own listener 198.18.0.1:11211, inode 200 */
"   1: 010012C6:2BCB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 200 1 0000000000000000 100 0 0 10 0\n"
/* wildcard listener *:22, inode 300 */
"   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 300 1 0000000000000000 100 0 0 10 0\n"
/* established 198.18.0.1:11212 <- 198.18.0.2:40000, inode 400 */
"   3: 010012C6:2BCC 020012C6:9C40 01 00000000:00000000 00:00000000 00000000   65534        0 400 1 0000000000000000 20 4 30 10 -1\n"
/* TIME_WAIT: inode 0, no owner */
"   4: 010012C6:2BCC 020012C6:9C41 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0000000000000000\n"
/* established through another device's address 10.0.0.5, inode 500 */
"   5: 0500000A:0050 0600000A:9C40 01 00000000:00000000 00:00000000 00000000     0        0 500 1 0000000000000000 20 4 30 10 -1\n"
/* SYN_SENT from the device's address: not counted (neither listening nor established) */
"   6: 010012C6:9C42 030012C6:0050 02 00000000:00000000 00:00000000 00000000     0        0 600 1 0000000000000000 20 4 30 10 -1\n";

int main(void)
{
	char path[] = "/tmp/irqlab_neigh_XXXXXX", desc[512] = "";
	const char *addrs[] = { "010012C6" };	/* 198.18.0.1 */
	const unsigned long own[] = { 200 };
	int fd = mkstemp(path), n;

	if (fd < 0 || write(fd, tcp, sizeof(tcp) - 1) != (ssize_t)(sizeof(tcp) - 1))
		tap_skip_all("cannot write a temporary file");
	close(fd);
	n = il_neigh_scan_file(path, addrs, 1, own, 1, desc, sizeof(desc));
	is_int(n, 3, "memcached's listener, the wildcard listener and the connection count; ours, TIME_WAIT, SYN_SENT and other devices' do not");
	ok(strstr(desc, "198.18.0.1:11212 (inode 100, tcp listening)") != NULL, "the first one is described: %s", desc);
	ok(strstr(desc, "inode 200") == NULL, "our own socket is not listed");
	desc[0] = 0;
	n = il_neigh_scan_file(path, addrs, 1, NULL, 0, desc, sizeof(desc));
	is_int(n, 4, "without the own-inode list our listener counts too");
	unlink(path);
	n = il_neigh_scan_file(path, addrs, 1, NULL, 0, desc, sizeof(desc));
	is_int(n, 0, "a missing file (no IPv6, no UDP) counts nothing");
	return tap_done();
}
