/* client/log.c: lines from threads logging at once come out whole, one per line. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "client/log.h"
#include "unit.h"

#define THREADS 4
#define LINES 2000

static void *log_lines(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < LINES; i++)
		log_info("thread %ld line %d %s", id, i, "....................................................");
	return NULL;
}

static void lines_from_threads_stay_whole(void)
{
	char path[] = "/tmp/esfs-unit-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2), whole = 0, broken = 0;
	pthread_t threads[THREADS];
	char line[512];
	FILE *f;

	CHECK(fd >= 0);
	fflush(stderr);
	dup2(fd, 2);
	log_init(1, LOG_LEVEL_DEFAULT, NULL);
	for (long t = 0; t < THREADS; t++)
		pthread_create(&threads[t], NULL, log_lines, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	fflush(stderr);
	dup2(saved, 2);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		long id;
		int n;
		char tail[128];

		if (sscanf(line, "esfs: thread %ld line %d %127s", &id, &n, tail) == 3 &&
		    strlen(tail) == 52 && line[strlen(line) - 1] == '\n')
			whole++;
		else
			broken++;
	}
	if (f)
		fclose(f);
	unlink(path);
	close(fd);
	close(saved);
	CHECK_INT(broken, 0);
	CHECK_INT(whole, THREADS * LINES);
}

static const struct unit_case cases[] = {
	{ "lines_from_threads_stay_whole", lines_from_threads_stay_whole },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
