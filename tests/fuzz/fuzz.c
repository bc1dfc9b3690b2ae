/* Helpers of the libFuzzer harnesses (see fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

char *fuzz_text(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

uint8_t fuzz_byte(struct fuzz_input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->data++;
}

uint64_t fuzz_u64(struct fuzz_input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8 && in->left; i++)
		v = v << 8 | fuzz_byte(in);
	return v;
}

char *fuzz_until(struct fuzz_input *in, uint8_t sep)
{
	const uint8_t *end = in->left ? memchr(in->data, sep, in->left) : NULL;
	size_t len = end ? (size_t)(end - in->data) : in->left;
	char *s = fuzz_text(in->data, len);

	in->data += len;
	in->left -= len;
	if (end)
		fuzz_byte(in);
	return s;
}

uint64_t fuzz_seed(const char *text, size_t len)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
	return h | 1;
}

size_t fuzz_piece_size(uint64_t *state)
{
	*state ^= *state << 13;	/* xorshift64 */
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (size_t)(*state % 17);
}

void fuzz_file_open(struct fuzz_file *f)
{
	f->fd = memfd_create("esfs-fuzz", MFD_CLOEXEC);
	if (f->fd < 0 || fchmod(f->fd, 0600))
		abort();
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

void fuzz_file_set(struct fuzz_file *f, const void *data, size_t len)
{
	if (ftruncate(f->fd, 0) || (len && pwrite(f->fd, data, len, 0) != (ssize_t)len))
		abort();
}

void fuzz_check(int ok, const char *what, const char *file, int line)
{
	if (ok)
		return;
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}
