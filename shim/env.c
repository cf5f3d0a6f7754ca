/* The shim's environment: error messages that name the variable the user
 * set, and the owner marker that keeps children from applying NAPI
 * settings twice. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "shim.h"

void shim_env_error(const char *err, char *out, size_t len)
{
	const char *colon = strchr(err, ':');
	char var[64] = "IRQLAB_";
	size_t n = colon ? (size_t)(colon - err) : 0;

	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)err[i]) && err[i] != '_')
			n = 0;
	if (!n || n + 8 > sizeof(var)) {
		snprintf(out, len, "invalid IRQLAB_* settings: %s", err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		var[7 + i] = (char)toupper((unsigned char)err[i]);
	var[7 + n] = '\0';
	snprintf(out, len, "%s%s", var, colon);
}

bool shim_owner_parse(const char *v, int *pid, int *fd)
{
	char tail;

	return v && sscanf(v, "%d/%d%c", pid, fd, &tail) == 2 && *pid > 0 &&
	       *fd >= 0;
}
