/*
 * What the libFuzzer harnesses of tests/fuzz share: turning the fuzzer's
 * bytes into the texts and numbers a parser takes, and a check that stops
 * the run (abort, so libFuzzer keeps the input) when an invariant breaks.
 */
#ifndef ESFS_FUZZ_H
#define ESFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The fuzzer's input, consumed from the front. */
struct fuzz_input {
	const uint8_t *data;
	size_t left;
};

/*
 * A NUL-terminated copy of len bytes: esfs's buffers (client/buf.h) always
 * end in a NUL, so a parser is fed what esfs would feed it. Never NULL.
 */
char *fuzz_text(const uint8_t *data, size_t len);
/* The next byte, or 0 once all are taken. */
uint8_t fuzz_byte(struct fuzz_input *in);
/* The next 8 bytes as a number (fewer when fewer are left). */
uint64_t fuzz_u64(struct fuzz_input *in);
/* The bytes up to the next sep (which is skipped), or all that are left, as a fuzz_text. */
char *fuzz_until(struct fuzz_input *in, uint8_t sep);

/*
 * Piece sizes from 0 to 16 for feeding a text in pieces, drawn from a
 * generator seeded with the text itself, so that a crash replays.
 */
uint64_t fuzz_seed(const char *text, size_t len);
size_t fuzz_piece_size(uint64_t *state);

/*
 * A file that parsers given a path can open: a memfd, mode 0600 (as a
 * credentials file must be), reached as /proc/self/fd/N, so that no run
 * writes to the disk. fuzz_file_set replaces its bytes.
 */
struct fuzz_file {
	int fd;
	char path[32];
};

void fuzz_file_open(struct fuzz_file *f);
void fuzz_file_set(struct fuzz_file *f, const void *data, size_t len);

#define FUZZ_CHECK(cond) fuzz_check((cond), #cond, __FILE__, __LINE__)
void fuzz_check(int ok, const char *what, const char *file, int line);

#endif
