/* edgesweep: command-line entry. A shim over the driver (STYLE A19): parse arguments, start
 * MPI for the commands that need it, map the status to the exit code of SPEC §4. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "edgesweep/buildinfo.h"
#include "edgesweep/driver.h"
#include "edgesweep/h5out.h"
#include "es_config.h"

enum { ES_EXIT_OK = 0, ES_EXIT_FAIL = 1, ES_EXIT_INPUT = 2, ES_EXIT_STOPPED = 3 };

static const char es__usage[] =
    "usage:\n"
    "  edgesweep run JOB.ini [-o OUT.h5] [--resume] [--force] [--set section.key=value]...\n"
    "                [--quiet]\n"
    "  edgesweep check JOB.ini [--set section.key=value]...\n"
    "  edgesweep mft --activation A --sigma-w2 X --sigma-b2 Y [--leak G] [--json]\n"
    "  edgesweep critical --activation A --sigma-b2 Y [--json]\n"
    "  edgesweep info OUT.h5     provenance, progress and the points not done\n"
    "  edgesweep verify OUT.h5 [--recompute K] [--seed S] [--point P]...\n"
    "                            layout and checksums; re-simulate K points (or P) too\n"
    "  edgesweep keys            print every job key with its default and meaning\n"
    "  edgesweep --help | --version\n"
    "\n"
    "run under MPI as: mpirun -n P edgesweep run JOB.ini (or srun, or alone).\n"
    "exit codes: 0 done, 1 runtime failure, 2 bad input (nothing written), 3 stopped by\n"
    "SIGTERM/SIGUSR1/SIGINT (OUT.h5.partial kept; continue with --resume).\n";

static int es__exit_code(es_status st) {
  switch (st) {
    case ES_OK: return ES_EXIT_OK;
    case ES_ERR_INPUT: return ES_EXIT_INPUT;
    case ES_ERR_STOPPED: return ES_EXIT_STOPPED;
    default: return ES_EXIT_FAIL;
  }
}

/* The command line as typed, for the provenance of the output. */
static char *es__command_line(int argc, char **argv) {
  size_t n = 1;
  for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 3;
  char *s = malloc(n);
  if (!s) return NULL;
  s[0] = '\0';
  for (int i = 0; i < argc; i++) {
    if (i) strcat(s, " ");
    int quote = strpbrk(argv[i], " \t'\"") != NULL;
    if (quote) strcat(s, "'");
    strcat(s, argv[i]);
    if (quote) strcat(s, "'");
  }
  return s;
}

/* Parse `run`/`check` arguments into OPTS; returns 0 or prints a message and returns 2. */
static int es__parse_run(int argc, char **argv, int is_run, es_run_opts *o, es_override *sets) {
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    int has_next = i + 1 < argc;
    if (strcmp(a, "--set") == 0 && has_next) {
      sets[o->nsets++].text = argv[++i];
    } else if (strncmp(a, "--set=", 6) == 0) {
      sets[o->nsets++].text = a + 6;
    } else if (is_run && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && has_next) {
      o->output = argv[++i];
    } else if (is_run && strcmp(a, "--force") == 0) {
      o->force = 1;
    } else if (is_run && strcmp(a, "--quiet") == 0) {
      o->quiet = 1;
    } else if (is_run && strcmp(a, "--resume") == 0) {
      o->resume = 1;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "edgesweep %s: unknown or incomplete option '%s'\n%s", argv[1], a,
              es__usage);
      return ES_EXIT_INPUT;
    } else if (!o->job_path) {
      o->job_path = a;
    } else {
      fprintf(stderr, "edgesweep %s: unexpected argument '%s'\n", argv[1], a);
      return ES_EXIT_INPUT;
    }
  }
  if (!o->job_path) {
    fprintf(stderr, "edgesweep %s: missing JOB.ini\n%s", argv[1], es__usage);
    return ES_EXIT_INPUT;
  }
  return ES_EXIT_OK;
}

/* Two Open MPI defaults that cost more than W-ref's whole sweep on one rank, set before
 * MPI_Init reads the environment (never over a value the user set; EDGESWEEP_MPI_DEFAULTS=0
 * leaves Open MPI alone):
 * - Alone (no mpirun, no PMIx launcher), Open MPI starts a daemon for the one process
 *   (0.45 s here); an isolated singleton keeps MPI-1 and MPI-IO, all that edgesweep uses.
 *   Every isolated singleton has job id 1, so two at once would share, and one remove, the
 *   same session directory while the other creates it (seen: "Local abort before MPI_INIT"):
 *   each gets a temporary directory of its own for it, removed after MPI_Finalize.
 * - Its default point-to-point layer first probes the fabric libraries (libfabric, PSM2) and
 *   on one node settles on ob1 with shared memory anyway (0.2 s). So when every rank is on one
 *   node (mpirun's OMPI_COMM_WORLD_SIZE equals its LOCAL_SIZE, the same answer on every rank;
 *   a one-node srun step; or alone), ask for ob1. Multi-node runs keep Open MPI's choice. */
static char es__mpi_tmp[4096];

static void es__mpi_local_defaults(void) {
  const char *off = getenv("EDGESWEEP_MPI_DEFAULTS");
  if (off && strcmp(off, "0") == 0) return;
  const char *size = getenv("OMPI_COMM_WORLD_SIZE"), *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const char *nodes = getenv("SLURM_STEP_NUM_NODES");
  const int alone = !size && !getenv("PMIX_RANK");
  if (alone && !getenv("OMPI_MCA_ess_singleton_isolated") && !getenv("OMPI_MCA_orte_tmpdir_base")) {
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(es__mpi_tmp, sizeof es__mpi_tmp, "%s/edgesweep-mpi.XXXXXX",
                     tmp && *tmp ? tmp : "/tmp");
    if (n > 0 && (size_t)n < sizeof es__mpi_tmp && mkdtemp(es__mpi_tmp)) {
      setenv("OMPI_MCA_orte_tmpdir_base", es__mpi_tmp, 1);
      setenv("OMPI_MCA_ess_singleton_isolated", "1", 1);
      setenv("OMPI_MCA_btl", "self", 0); /* no peers: no shared-memory segment either */
    } else {
      es__mpi_tmp[0] = '\0'; /* no directory of its own: Open MPI's usual singleton */
    }
  }
  const int one_node = alone || (size ? local && strcmp(size, local) == 0
                                      : nodes && strcmp(nodes, "1") == 0);
  if (one_node) setenv("OMPI_MCA_pml", "ob1", 0);
}

static int es__rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* What Open MPI left in the singleton's own directory (normally nothing), and the directory. */
static void es__mpi_local_cleanup(void) {
  if (es__mpi_tmp[0]) nftw(es__mpi_tmp, es__rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int es__run_mpi(int argc, char **argv, int is_run) {
  es_override *sets = calloc((size_t)argc, sizeof *sets);
  es_run_opts o = {0};
  if (!sets) return ES_EXIT_FAIL;
  int rc = es__parse_run(argc, argv, is_run, &o, sets);
  if (rc != ES_EXIT_OK) {
    free(sets);
    return rc;
  }
  o.sets = sets;
  char *cl = es__command_line(argc, argv);
  o.command_line = cl ? cl : "";
  int provided;
  es__mpi_local_defaults();
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  /* Return codes instead of aborts, so that checks on MPI calls mean something (A6). */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  es_status st = is_run ? es_run(MPI_COMM_WORLD, &o, stderr) : es_check(MPI_COMM_WORLD, &o, stdout);
  if (st != ES_OK && rank == 0)
    fprintf(stderr, "edgesweep: %s: %s\n",
            st == ES_ERR_INPUT ? "error" : es_status_str(st), es_error_msg());
  MPI_Finalize();
  es__mpi_local_cleanup();
  free(cl);
  free(sets);
  return es__exit_code(st);
}

/* `verify FILE [--recompute K] [--seed S] [--point P]...` under MPI (any rank count). */
static int es__verify_mpi(int argc, char **argv) {
  es_verify_opts o = {0};
  int64_t *pts = calloc((size_t)argc, sizeof *pts);
  if (!pts) return ES_EXIT_FAIL;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    char *end = NULL;
    if (i + 1 < argc && (strcmp(a, "--recompute") == 0 || strcmp(a, "--seed") == 0 ||
                         strcmp(a, "--point") == 0)) {
      const char *v = argv[++i];
      long long x = strtoll(v, &end, 10);
      if (end == v || *end || x < 0) {
        fprintf(stderr, "edgesweep verify: %s wants a whole number >= 0, not '%s'\n", a, v);
        free(pts);
        return ES_EXIT_INPUT;
      }
      if (a[2] == 'r') o.recompute = x;
      else if (a[2] == 's') o.seed = (uint64_t)x;
      else pts[o.npoints++] = x;
    } else if (a[0] == '-' || o.path) {
      fprintf(stderr, "edgesweep verify: unexpected argument '%s'\n%s", a, es__usage);
      free(pts);
      return ES_EXIT_INPUT;
    } else {
      o.path = a;
    }
  }
  if (!o.path) {
    fprintf(stderr, "edgesweep verify: missing OUT.h5\n%s", es__usage);
    free(pts);
    return ES_EXIT_INPUT;
  }
  o.points = pts;
  int provided, rank;
  es__mpi_local_defaults();
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  es_status st = es_verify(MPI_COMM_WORLD, &o, stdout);
  if (st != ES_OK && rank == 0) fprintf(stderr, "edgesweep verify: %s\n", es_error_msg());
  MPI_Finalize();
  es__mpi_local_cleanup();
  free(pts);
  return es__exit_code(st);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(es__usage, stderr);
    return ES_EXIT_INPUT;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    fputs(es__usage, stdout);
    return ES_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    char libs[1024], host[512];
    es_libraries(libs, sizeof libs);
    es_host(host, sizeof host);
    printf("edgesweep %s (git %s)\ncompiler  %s\nflags     %s\nlibraries %s\nhost      %s\n",
           ES_VERSION, es_build_git_id, es_build_compiler, es_build_flags, libs, host);
    return ES_EXIT_OK;
  }
  if (strcmp(cmd, "run") == 0) return es__run_mpi(argc, argv, 1);
  if (strcmp(cmd, "check") == 0) return es__run_mpi(argc, argv, 0);
  if (strcmp(cmd, "mft") == 0) return es_cmd_mft(argc - 1, argv + 1);
  if (strcmp(cmd, "critical") == 0) return es_cmd_critical(argc - 1, argv + 1);
  if (strcmp(cmd, "verify") == 0) return es__verify_mpi(argc, argv);
  if (strcmp(cmd, "info") == 0) {
    if (argc != 3) {
      fprintf(stderr, "usage: edgesweep info OUT.h5\n");
      return ES_EXIT_INPUT;
    }
    es_status st = es_h5out_info(argv[2], stdout);
    if (st != ES_OK) fprintf(stderr, "edgesweep info: %s\n", es_error_msg());
    return es__exit_code(st);
  }
  if (strcmp(cmd, "keys") == 0) {
    es_job_print_keys(stdout);
    return ES_EXIT_OK;
  }
  fprintf(stderr, "edgesweep: unknown command '%s'\n%s", cmd, es__usage);
  return ES_EXIT_INPUT;
}
