/*
 * LD_PRELOAD for tests/test_service.py: mount(2) waits a second before it
 * mounts, so that a READY=1 sent before the mount is in place would be seen
 * arriving while the mount point is still an empty folder.
 */
#include <dlfcn.h>
#include <sys/mount.h>
#include <unistd.h>

int mount(const char *source, const char *target, const char *type, unsigned long flags,
	  const void *data)
{
	int (*real)(const char *, const char *, const char *, unsigned long, const void *);

	*(void **)&real = dlsym(RTLD_NEXT, "mount");
	sleep(1);
	return real(source, target, type, flags, data);
}
