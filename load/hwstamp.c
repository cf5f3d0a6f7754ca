/* --timestamps hw: can the NIC on the way to a server stamp received
 * packets, and is it doing so? irqlab-load only looks (ethtool's
 * timestamping info, SIOCGHWTSTAMP); it never changes the device: turning
 * hardware stamping on is a system setting (`hwstamp_ctl -i DEV -r 1`), and
 * hardware stamps count in the NIC's clock, which must be synchronised to
 * the system clock (`phc2sys`) for the latency to mean anything. */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "load.h"

/* The interface whose address the kernel would send from to reach sa. */
static int route_dev(const struct sockaddr_storage *sa, socklen_t salen, char *dev,
		     size_t len)
{
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	struct ifaddrs *ifs, *i;
	int fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), found = -1;

	/* connect() on UDP only picks the route: no packet leaves */
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, salen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &ml) < 0 || getifaddrs(&ifs) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	for (i = ifs; i && found < 0; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != me.ss_family)
			continue;
		if (me.ss_family == AF_INET ?
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
		    ((struct sockaddr_in *)&me)->sin_addr.s_addr :
		    !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    &((struct sockaddr_in6 *)&me)->sin6_addr, sizeof(struct in6_addr))) {
			snprintf(dev, len, "%s", i->ifa_name);
			found = 0;
		}
	}
	freeifaddrs(ifs);
	return found;
}

int hwstamp_check(const struct server *sv, char *err, size_t len)
{
	char dev[IFNAMSIZ] = "";
	struct ethtool_ts_info info = { .cmd = ETHTOOL_GET_TS_INFO };
	struct hwtstamp_config cfg = { 0 };
	struct ifreq ifr;
	int fd, rc;

	if (route_dev(&sv->sa, sv->salen, dev, sizeof(dev)) < 0) {
		snprintf(err, len, "--timestamps hw: cannot tell which device reaches %s", sv->name);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = (void *)&info;
	rc = fd < 0 ? -1 : ioctl(fd, SIOCETHTOOL, &ifr);
	if (rc < 0 || !(info.so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE) ||
	    !(info.so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE)) {
		snprintf(err, len, "--timestamps hw: device %s (the way to %s) cannot stamp received "
			 "packets in hardware (ethtool -T %s); use --timestamps sw", dev, sv->name, dev);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ifr.ifr_data = (void *)&cfg;
	rc = ioctl(fd, SIOCGHWTSTAMP, &ifr);
	close(fd);
	if (rc < 0 || cfg.rx_filter == HWTSTAMP_FILTER_NONE) {
		snprintf(err, len, "--timestamps hw: device %s stamps no received packets now%s; "
			 "irqlab-load does not change device settings: enable it with "
			 "'hwstamp_ctl -i %s -r 1' (and keep its clock in step with phc2sys)",
			 dev, rc < 0 ? " (SIOCGHWTSTAMP failed)" : "", dev);
		return -1;
	}
	return 0;
}
