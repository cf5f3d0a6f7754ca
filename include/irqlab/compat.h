/* Fallback definitions for UAPI newer than Debian 12's linux-libc-dev 6.1. */
#ifndef IRQLAB_COMPAT_H
#define IRQLAB_COMPAT_H

#include <linux/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* epoll busy-poll parameters, Linux 6.9 (include/uapi/linux/eventpoll.h) */
#ifndef EPIOCSPARAMS
struct epoll_params {
	__u32 busy_poll_usecs;
	__u16 busy_poll_budget;
	__u8 prefer_busy_poll;
	__u8 __pad;	/* must be zero */
};
#define EPOLL_IOC_TYPE 0x8A
#define EPIOCSPARAMS _IOW(EPOLL_IOC_TYPE, 0x01, struct epoll_params)
#define EPIOCGPARAMS _IOR(EPOLL_IOC_TYPE, 0x02, struct epoll_params)
#endif

/* Linux 4.12 */
#ifndef SO_INCOMING_NAPI_ID
#define SO_INCOMING_NAPI_ID 56
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

/* Generic netlink family "netdev" (include/uapi/linux/netdev.h, which Debian
 * 12 lacks). Our own IL_ names so a newer system header cannot clash; the
 * numbers are the kernel's ABI and were checked against Linux 6.18. */
#ifndef IL_NETDEV_FAMILY_NAME
#define IL_NETDEV_FAMILY_NAME		"netdev"	/* Linux 6.3 */
#define IL_NETDEV_CMD_QUEUE_GET		10		/* Linux 6.8 */
#define IL_NETDEV_CMD_NAPI_GET		11		/* Linux 6.8 */
#define IL_NETDEV_CMD_NAPI_SET		14		/* Linux 6.13 */
#define IL_NETDEV_A_NAPI_IFINDEX	1
#define IL_NETDEV_A_NAPI_ID		2
#define IL_NETDEV_A_NAPI_IRQ		3
#define IL_NETDEV_A_NAPI_PID		4
#define IL_NETDEV_A_NAPI_DEFER_HARD_IRQS 5		/* Linux 6.13 */
#define IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT 6		/* Linux 6.13 */
#define IL_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT 7		/* Linux 6.13 */
#define IL_NETDEV_A_NAPI_THREADED	8		/* Linux 6.17 */
#define IL_NETDEV_A_QUEUE_ID		1
#define IL_NETDEV_A_QUEUE_IFINDEX	2
#define IL_NETDEV_A_QUEUE_TYPE		3
#define IL_NETDEV_A_QUEUE_NAPI_ID	4
#define IL_NETDEV_QUEUE_TYPE_RX		0
#define IL_NETDEV_QUEUE_TYPE_TX		1
#endif

/* ethtool netlink attributes newer than Debian 12's <linux/ethtool_netlink.h>
 * (6.1, where they are enum members, which #ifndef cannot see): our own IL_
 * names, numbers checked against Linux 6.18's ethtool_netlink_generated.h. */
#ifndef IL_ETHTOOL_A_RINGS_RX_PUSH
#define IL_ETHTOOL_A_RINGS_RX_PUSH	14		/* Linux 6.3 */
#endif

#endif
