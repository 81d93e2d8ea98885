/* buildinfo: what built this binary, taken at build time (scripts/buildinfo.py runs on every
 * build, so the commit never names an older tree than the one compiled). */
#ifndef EDGESWEEP_BUILDINFO_H
#define EDGESWEEP_BUILDINFO_H

extern const char es_build_git_commit[]; /* 12 hex digits, or "unknown" (no git) */
extern const int es_build_git_dirty;     /* 1: uncommitted changes to tracked files; -1: unknown */
extern const char es_build_git_id[];     /* the commit, "-dirty" appended when dirty */
extern const char es_build_compiler[];   /* "gcc 12.2.0" */
extern const char es_build_flags[];      /* the compile flags of the sources */

#endif
