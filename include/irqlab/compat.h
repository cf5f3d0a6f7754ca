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

#endif
