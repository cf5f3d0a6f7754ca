/* A one-line progress bar with the time left, on a terminal only. */
#include <stdio.h>
#include <unistd.h>

#include "bench.h"

static int shown;

void progress(const struct sweep *s, const char *what)
{
	char bar[31];
	double el, left;
	int fill;

	if (!isatty(2) || s->planned <= 0)
		return;
	el = il_now_s() - s->t_start;
	/* Runs take about the same time, so the mean so far predicts the rest. */
	left = s->done ? el / s->done * (s->planned - s->done) : -1;
	fill = 30 * s->done / s->planned;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	fprintf(stderr, "\r\033[K[%s] %d/%d  %-32.32s", bar, s->done, s->planned, what);
	if (left >= 0)
		fprintf(stderr, " ~%dm%02ds left", (int)left / 60, (int)left % 60);
	fflush(stderr);
	shown = 1;
}

void progress_done(void)
{
	if (shown)
		fprintf(stderr, "\r\033[K");
	shown = 0;
}
