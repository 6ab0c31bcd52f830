/* walk.h - the files of a directory of the source tree, for the tests that
 * run over every fixture:
 *
 *   walk w;
 *   walk_open(&w, "tests/trace-fixtures");
 *   while (walk_next(&w)) ... w.path, w.name ...
 *
 * Names starting with '.' and subdirectories are left out (the replay
 * fixtures in tests/trace-fixtures/replay have tests of their own); the
 * directory closes at the end. */
#ifndef BRAID_TEST_WALK_H
#define BRAID_TEST_WALK_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#ifndef BRAID_SRCDIR
#define BRAID_SRCDIR "."
#endif

typedef struct walk {
  DIR *d;
  char dir[512];
  const char *name; /* of the current file */
  char path[1024];  /* dir/name */
} walk;

static inline void walk_open(walk *w, const char *subdir)
{
  snprintf(w->dir, sizeof w->dir, "%s/%s", BRAID_SRCDIR, subdir);
  w->d = opendir(w->dir);
  cr_assert(w->d, "%s: %s", w->dir, strerror(errno));
}

static inline int walk_next(walk *w)
{
  for (struct dirent *e; w->d && (e = readdir(w->d));) {
    if (e->d_name[0] == '.') continue;
    w->name = e->d_name;
    snprintf(w->path, sizeof w->path, "%s/%s", w->dir, e->d_name);
    struct stat st;
    if (stat(w->path, &st) == 0 && S_ISDIR(st.st_mode)) continue;
    return 1;
  }
  if (w->d) closedir(w->d);
  w->d = NULL;
  return 0;
}

#endif
