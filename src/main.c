/* edgesweep: command-line entry. A shim over the driver: parse arguments, start
 * MPI for the commands that need it, map the status to the exit code the README lists. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "edgesweep/buildinfo.h"
#include "edgesweep/driver.h"
#include "edgesweep/h5out.h"
#include "es_config.h"

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

/* Parse `run`/`check` arguments (ARGV[0] is the command) into O; returns ES_EXIT_OK,
 * ES_EXIT_INPUT after a message, or -1 when --help was printed. */
static int es__parse_run(int argc, char **argv, int is_run, es_run_opts *o, es_override *sets) {
  enum { OPT_SET = 256, OPT_FORCE, OPT_QUIET, OPT_RESUME, OPT_PROGRESS };
  static const struct option run_opts[] = {{"output", required_argument, NULL, 'o'},
                                           {"set", required_argument, NULL, OPT_SET},
                                           {"force", no_argument, NULL, OPT_FORCE},
                                           {"quiet", no_argument, NULL, OPT_QUIET},
                                           {"resume", no_argument, NULL, OPT_RESUME},
                                           {"progress", required_argument, NULL, OPT_PROGRESS},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  static const struct option check_opts[] = {{"set", required_argument, NULL, OPT_SET},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
  static const char *const modes[] = {"auto", "bar", "log", "none"};
  int c;
  while ((c = es_cli_getopt(argc, argv, is_run ? ":ho:" : ":h", is_run ? run_opts : check_opts)) !=
         -1) {
    switch (c) {
      case 'h': es_cli_help(stdout, es_cli_find(argv[0])); return -1;
      case 'o': o->output = optarg; break;
      case OPT_SET: sets[o->nsets++].text = optarg; break;
      case OPT_FORCE: o->force = 1; break;
      case OPT_QUIET: o->quiet = 1; break;
      case OPT_RESUME: o->resume = 1; break;
      case OPT_PROGRESS: {
        int m = 0;
        while (m < 4 && strcmp(optarg, modes[m]) != 0) m++;
        if (m == 4) {
          fprintf(stderr, "edgesweep %s: --progress=%s: use auto, bar, log or none\n", argv[0],
                  optarg);
          return ES_EXIT_INPUT;
        }
        o->progress = (es_progress_mode)m;
        break;
      }
      default: return ES_EXIT_INPUT;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "edgesweep %s: missing JOB.ini\nusage: %s\n", argv[0],
            es_cli_find(argv[0])->synopsis);
    return ES_EXIT_INPUT;
  }
  o->job_path = argv[optind];
  if (optind + 1 < argc) {
    fprintf(stderr, "edgesweep %s: unexpected argument '%s' (one job file per run)\n", argv[0],
            argv[optind + 1]);
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
  const int one_node =
      alone || (size ? local && strcmp(size, local) == 0 : nodes && strcmp(nodes, "1") == 0);
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
  /* The command line as typed, before getopt_long reorders ARGV. */
  char *cl = es__command_line(argc, argv);
  if (!sets || !cl) {
    free(sets);
    free(cl);
    return ES_EXIT_FAIL;
  }
  int rc = es__parse_run(argc - 1, argv + 1, is_run, &o, sets);
  if (rc != ES_EXIT_OK) {
    free(sets);
    free(cl);
    return rc < 0 ? ES_EXIT_OK : rc;
  }
  o.sets = sets;
  o.command_line = cl;
  int provided;
  if (is_run) es_run_signals(); /* before MPI_Init: a signal in start-up is exit 3 too */
  es__mpi_local_defaults();
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "edgesweep: MPI error: MPI_Init_thread failed\n");
    es__mpi_local_cleanup();
    free(cl);
    free(sets);
    return ES_EXIT_FAIL;
  }
  /* Return codes instead of aborts, so that checks on MPI calls mean something (A6). */
  int rank = 0;
  if (MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
      MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS) {
    fprintf(stderr, "edgesweep: MPI error: cannot set up MPI_COMM_WORLD\n");
    MPI_Abort(MPI_COMM_WORLD, ES_EXIT_FAIL);
  }
  es_status st = is_run ? es_run(MPI_COMM_WORLD, &o, stderr) : es_check(MPI_COMM_WORLD, &o, stdout);
  if (st != ES_OK && rank == 0)
    fprintf(stderr, "edgesweep: %s: %s\n", st == ES_ERR_INPUT ? "error" : es_status_str(st),
            es_error_msg());
  if (es_h5out_finalize() != 0) {
    /* HDF5 holds a file it could not close, and its shutdown inside MPI_Finalize would crash
     * on it: the message is out, the partial file was flushed after its last point. */
    fflush(NULL);
    es__mpi_local_cleanup();
    _exit(es__exit_code(st));
  }
  if (MPI_Finalize() != MPI_SUCCESS && st == ES_OK) {
    fprintf(stderr, "edgesweep: MPI error: MPI_Finalize failed on rank %d\n", rank);
    st = ES_ERR_MPI;
  }
  es__mpi_local_cleanup();
  free(cl);
  free(sets);
  fflush(NULL);
  /* A signal after the last point of agreement (closing, MPI_Finalize) still ends in 3: the
   * output is complete then, and --resume finds nothing left to do. Checked last, and left
   * by _exit: the libraries' exit handlers that exit() would run take about a millisecond,
   * in which a signal would be caught and then lost. Everything is finalized and flushed. */
  if (is_run && st == ES_OK && es_run_stopped()) {
    fprintf(stderr,
            "edgesweep: stopped by signal %d after the output was complete; "
            "--resume has nothing left to do\n",
            es_run_stopped());
    st = ES_ERR_STOPPED;
  }
  _exit(es__exit_code(st));
}

/* Parse a command that takes no options but --help. Returns -1 to go on (optind at the first
 * argument), else the exit code (help printed: 0; a bad option: 2, with a message). */
static int es__help_only(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c = es_cli_getopt(argc, argv, ":h", opts);
  if (c == -1) return -1;
  if (c != 'h') return ES_EXIT_INPUT;
  es_cli_help(stdout, es_cli_find(argv[0]));
  return ES_EXIT_OK;
}

/* `edgesweep info OUT.h5`. */
static int es__info(int argc, char **argv) {
  int rc = es__help_only(argc, argv);
  if (rc >= 0) return rc;
  if (argc - optind != 1) {
    fprintf(stderr, "usage: %s\n", es_cli_find(argv[0])->synopsis);
    return ES_EXIT_INPUT;
  }
  es_status st = es_h5out_info(argv[optind], stdout);
  if (st != ES_OK) fprintf(stderr, "edgesweep info: %s\n", es_error_msg());
  return es__exit_code(st);
}

/* `edgesweep verify OUT.h5 [--recompute=K] [--seed=S] [--point=P]...` under MPI. */
static int es__verify(int argc, char **argv) {
  enum { OPT_RECOMPUTE = 256, OPT_SEED, OPT_POINT };
  static const struct option opts[] = {{"recompute", required_argument, NULL, OPT_RECOMPUTE},
                                       {"seed", required_argument, NULL, OPT_SEED},
                                       {"point", required_argument, NULL, OPT_POINT},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  es_verify_opts o = {0};
  int64_t *pts = calloc((size_t)argc + 1, sizeof *pts);
  if (!pts) return ES_EXIT_FAIL;
  int c, rc = ES_EXIT_OK;
  while (rc == ES_EXIT_OK && (c = es_cli_getopt(argc, argv, ":h", opts)) != -1) {
    if (c == 'h') {
      es_cli_help(stdout, es_cli_find(argv[0]));
      free(pts);
      return ES_EXIT_OK;
    }
    if (c != OPT_RECOMPUTE && c != OPT_SEED && c != OPT_POINT) {
      rc = ES_EXIT_INPUT;
      break;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(optarg, &end, 10);
    if (end == optarg || *end || errno || optarg[0] == '-' || (c != OPT_SEED && x > INT64_MAX)) {
      fprintf(stderr, "edgesweep verify: --%s=%s: a whole number >= 0\n",
              c == OPT_RECOMPUTE ? "recompute"
              : c == OPT_SEED    ? "seed"
                                 : "point",
              optarg);
      rc = ES_EXIT_INPUT;
    } else if (c == OPT_RECOMPUTE) {
      o.recompute = (int64_t)x;
    } else if (c == OPT_SEED) {
      o.seed = (uint64_t)x;
    } else {
      pts[o.npoints++] = (int64_t)x;
    }
  }
  if (rc == ES_EXIT_OK && argc - optind != 1) {
    fprintf(stderr, "usage: %s\n", es_cli_find(argv[0])->synopsis);
    rc = ES_EXIT_INPUT;
  }
  if (rc != ES_EXIT_OK) {
    free(pts);
    return rc;
  }
  o.path = argv[optind];
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

/* `edgesweep keys`. */
static int es__keys(int argc, char **argv) {
  int rc = es__help_only(argc, argv);
  if (rc >= 0) return rc;
  if (optind < argc) {
    fprintf(stderr, "edgesweep keys: unexpected argument '%s'\n", argv[optind]);
    return ES_EXIT_INPUT;
  }
  es_job_print_keys(stdout);
  return ES_EXIT_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    es_cli_usage(stderr);
    return ES_EXIT_INPUT;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    es_cli_usage(stdout);
    return ES_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    char libs[1024], host[512];
    es_libraries(libs, sizeof libs);
    es_host(host, sizeof host);
    printf("edgesweep %s (git %s)\ncompiler  %s\nflags     %s\nlibraries %s\nhost      %s\n",
           ES_VERSION, es_build_git_id, es_build_compiler, es_build_flags, libs, host);
    return ES_EXIT_OK;
  }
  if (strcmp(cmd, "help") == 0) return es_cli_help_command(argc - 1, argv + 1);
  if (strcmp(cmd, "run") == 0) return es__run_mpi(argc, argv, 1);
  if (strcmp(cmd, "check") == 0) return es__run_mpi(argc, argv, 0);
  if (strcmp(cmd, "mft") == 0) return es_cmd_mft(argc - 1, argv + 1);
  if (strcmp(cmd, "critical") == 0) return es_cmd_critical(argc - 1, argv + 1);
  if (strcmp(cmd, "info") == 0) return es__info(argc - 1, argv + 1);
  if (strcmp(cmd, "verify") == 0) return es__verify(argc - 1, argv + 1);
  if (strcmp(cmd, "keys") == 0) return es__keys(argc - 1, argv + 1);
  if (cmd[0] == '-') {
    fprintf(stderr,
            "edgesweep: '%s' is not a command (options go after it: edgesweep COMMAND "
            "[OPTIONS]); edgesweep help lists the commands\n",
            cmd);
    return ES_EXIT_INPUT;
  }
  return es_cli_unknown_command(cmd);
}
