/* cli.h - what the four tools share: strict argument parsing and one-line
 * errors.  Exit codes follow diff(1): 0 ok/equal, 1 difference or
 * divergence, 2 trouble. */
#ifndef BRAID_CLI_H
#define BRAID_CLI_H

#include <stdint.h>
#include "braid.h"

enum { EXIT_SAME = 0, EXIT_DIFFERENT = 1, EXIT_TROUBLE = 2 };

extern const char *cli_prog;

/* Prints "PROG: message" to stderr and exits 2. */
void cli_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Strict unsigned parse of an option value: digits only, no overflow, within
 * [lo, hi]; otherwise a one-line error naming the option, exit 2. */
uint64_t cli_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi);
/* Dies with what made getopt_long() return '?' or ':' (the tools set
 * opterr = 0 and start optstring with ':'): an unknown short option by its
 * letter, a long option that is unknown, ambiguous (the candidates listed)
 * or given a value it does not take, or an option missing its value. */
struct option;
void cli_bad_option(int c, char **argv, const struct option *opts) __attribute__((noreturn));
/* Prints the version line and exits 0. */
void cli_version(void) __attribute__((noreturn));
/* The one trace left on the command line after the options (argv[optind]);
 * dies with a clear line when there is none or more than one. */
const char *cli_one_trace(int argc, char **argv);
/* Checks that `path` names a readable regular file; dies with a clear line. */
void cli_need_file(const char *path);
/* Reads the whole trace once and dies with the reader's one-line message
 * unless it is intact (a clean end, not truncated or damaged). */
void cli_need_whole_trace(const char *path);
/* A torus as the tools name it: its letter "A".."P" for 0..15, or its
 * number when a damaged trace names a torus no run can have (buf: 32 bytes). */
const char *cli_torus(int64_t torus, char *buf);
/* "exchange" or "exchanges", to follow the number n. */
const char *cli_exchanges(uint64_t n);
/* "complete", "interrupted", "failed", "unfinished" (static storage). */
const char *cli_status_name(braid_trace_status s);
/* The JSON string of s (quotes included): escaped, every byte that is not
 * well-formed UTF-8 replaced by U+FFFD, never cut.  The buffer is reused by
 * the next call. */
const char *cli_json(const char *s);
/* Settings text ("key=value\n" lines, as a trace header holds them) as a
 * JSON object: values that are whole numbers below 2^53 in magnitude are
 * numbers, the others strings.  The buffer is reused by the next call. */
const char *cli_json_settings(const char *text);
/* Whether a and b name the same existing file (by any path or link). */
int cli_same_file(const char *a, const char *b);

#endif
