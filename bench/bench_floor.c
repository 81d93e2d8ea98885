/* The floor of the gram path: ns per standard normal from the project's
 * generator (es_rng_normals), ns per activation with and without its derivative through the
 * activation module's array kernel (act->eval), and glibc's scalar tanh for scale. The floor
 * of a workload is (3 normals + 1 eval with phi' + 1 eval without) per neuron, layer and
 * network, divided by the cores: a gram layer cannot do less work than that.
 * The floor uses the paths the engine picks (AVX2 when the CPU has it); the portable scalar
 * paths (same bits) are timed too, for scale.
 * Usage: bench_floor [--work W] [--cores C] [--act NAME] [--json]
 *        bench_floor --table    (ns per value of every activation's eval, with and without
 *                                its derivative, on the engine's path and on scalar+fma)
 *   W: sum over points of N T M (default: W-ref, 16 points x (64+256+1024) x 64 x 64).
 * Prints best-of-21 figures (the machine may be shared: best-of filters other jobs out). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation_impl.h"
#include "edgesweep/activation.h"
#include "edgesweep/rng.h"
#include "edgesweep/util.h"
#include "rng_impl.h"

/* Many short repetitions: on a shared machine the best one is the least disturbed. */
enum { REPS = 21 };
/* Chunks as in a gram layer: 3N normals per stream at N = 1024, N activations. */
enum { WIDTH = 1024, TOTAL = 1 << 20 };

static volatile double sink; /* keeps results alive against dead-code elimination */

static double ns_normals(void) {
  double *z = malloc(3 * WIDTH * sizeof *z), best = 1e30;
  es_rng_key key = es_rng_point_key(1, 1.6, 0.1, WIDTH);
  for (int r = 0; r < REPS; r++) {
    double t0 = es_wtime(), s = 0;
    for (uint64_t layer = 0; layer < TOTAL / (3 * WIDTH); layer++) {
      es_rng g;
      es_rng_init(&g, key, 7, layer, ES_RNG_ROWS); /* one stream per layer, as the engine */
      es_rng_normals(&g, z, 3 * WIDTH);
      s += z[layer % (3 * WIDTH)];
    }
    double t = (es_wtime() - t0) / (double)(TOTAL / (3 * WIDTH) * 3 * WIDTH);
    sink = s;
    if (t < best) best = t;
  }
  free(z);
  return best * 1e9;
}

/* Inputs spread like pre-activations (N(0, q) with q ~ 1.5: both the linear and the
 * saturated regions of tanh), from the project's generator. */
static void fill_inputs(double *x, size_t n) {
  es_rng g;
  es_rng_init(&g, es_rng_point_key(2, 1, 0, 1), 0, 0, ES_RNG_TEST);
  es_rng_normals(&g, x, n);
  for (size_t i = 0; i < n; i++) x[i] *= 1.22;
}

static double ns_eval(const es_activation *act, int deriv) {
  double *x = malloc(WIDTH * sizeof *x), *f = malloc(WIDTH * sizeof *f),
         *df = malloc(WIDTH * sizeof *df), best = 1e30;
  fill_inputs(x, WIDTH);
  for (int r = 0; r < REPS; r++) {
    double t0 = es_wtime(), s = 0;
    for (int k = 0; k < TOTAL / WIDTH; k++) {
      act->eval(WIDTH, x, f, deriv ? df : NULL);
      s += f[k % WIDTH] + (deriv ? df[k % WIDTH] : 0);
    }
    double t = (es_wtime() - t0) / (double)TOTAL;
    sink = s;
    if (t < best) best = t;
  }
  free(x);
  free(f);
  free(df);
  return best * 1e9;
}

static volatile double zero = 0.0;

static double ns_glibc_tanh(void) {
  double *x = malloc(WIDTH * sizeof *x), best = 1e30;
  fill_inputs(x, WIDTH);
  for (int r = 0; r < REPS; r++) {
    double t0 = es_wtime(), s = 0;
    for (int k = 0; k < TOTAL / WIDTH; k++) {
      double d = zero; /* unknown to the compiler: tanh is pure, repeats would be dropped */
      for (int i = 0; i < WIDTH; i++) s += tanh(x[i] + d);
    }
    double t = (es_wtime() - t0) / (double)TOTAL;
    sink = s;
    if (t < best) best = t;
  }
  free(x);
  return best * 1e9;
}

/* Names of the es__simd paths; numbers only, so that a new path never reads out of bounds. */
static const char *path_name(int p) {
  switch (p) {
    case 0: return "auto";
    case 1: return "scalar";
    case 2: return "scalar+fma";
    case 3: return "avx2";
    case 4: return "avx512";
    default: return "other";
  }
}

/* One row per activation: the table of bench/README.md ("Activations other than tanh"). */
static int print_table(void) {
  const char *apath = path_name((int)es__activation_simd());
  printf(
      "| activation | eval + phi' (%s) | eval alone (%s) | eval + phi' (scalar+fma) | "
      "eval alone (scalar+fma) |\n|---|---|---|---|---|\n",
      apath, apath);
  for (int id = 0; id < ES_ACT_COUNT; id++) {
    const es_activation *act = es_activation_get((es_act_id)id);
    es__activation_set_simd(ES__SIMD_AUTO);
    double ed = ns_eval(act, 1), e0 = ns_eval(act, 0), sd = NAN, s0 = NAN;
    if (es__activation_set_simd(ES__SIMD_SCALAR_FMA) == 0) {
      sd = ns_eval(act, 1);
      s0 = ns_eval(act, 0);
    }
    printf("| %s | %.2f | %.2f | %.2f | %.2f |\n", act->name, ed, e0, sd, s0);
    fflush(stdout);
  }
  es__activation_set_simd(ES__SIMD_AUTO);
  return 0;
}

int main(int argc, char **argv) {
  double work = 16.0 * (64 + 256 + 1024) * 64 * 64, cores = 2;
  const char *name = "tanh";
  int json = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--work") && i + 1 < argc)
      work = atof(argv[++i]);
    else if (!strcmp(argv[i], "--cores") && i + 1 < argc)
      cores = atof(argv[++i]);
    else if (!strcmp(argv[i], "--act") && i + 1 < argc)
      name = argv[++i];
    else if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--table"))
      return print_table();
    else {
      fprintf(stderr,
              "usage: bench_floor [--work W] [--cores C] [--act NAME] [--json]\n"
              "       bench_floor --table\n");
      return 2;
    }
  }
  const es_activation *act = es_activation_find(name);
  if (!act) {
    fprintf(stderr, "bench_floor: unknown activation %s\n", name);
    return 2;
  }
  const char *rpath = path_name((int)es__rng_simd()),
             *apath = path_name((int)es__activation_simd());
  double zn = ns_normals(), ed = ns_eval(act, 1), e0 = ns_eval(act, 0), gt = ns_glibc_tanh();
  /* The same kernels on the scalar FMA path (NaN when this CPU cannot run it). */
  double zs = NAN, es = NAN;
  if (es__rng_set_simd(ES__SIMD_SCALAR_FMA) == 0) zs = ns_normals();
  if (es__activation_set_simd(ES__SIMD_SCALAR_FMA) == 0) es = ns_eval(act, 1);
  es__rng_set_simd(ES__SIMD_AUTO);
  es__activation_set_simd(ES__SIMD_AUTO);
  double per = 3 * zn + ed + e0; /* ns per neuron-layer-network */
  double floor_s = work * per * 1e-9 / cores;
  if (json) {
    printf(
        "{\"ns_normal\": %.4f, \"ns_eval_deriv\": %.4f, \"ns_eval\": %.4f, "
        "\"ns_glibc_tanh\": %.4f, \"ns_normal_scalar\": %.4f, "
        "\"ns_eval_deriv_scalar\": %.4f, \"rng_path\": \"%s\", \"act_path\": \"%s\", "
        "\"ns_per_neuron_layer\": %.4f, \"work\": %.0f, \"cores\": %g, "
        "\"floor_seconds\": %.4f}\n",
        zn, ed, e0, gt, zs, es, rpath, apath, per, work, cores, floor_s);
    return 0;
  }
  printf("normal (es_rng_normals, 3x%d per stream, %s): %7.3f ns (scalar+fma: %.3f)\n", WIDTH,
         rpath, zn, zs);
  printf("%s + derivative (act->eval, %s):           %7.3f ns (scalar+fma: %.3f)\n", name, apath,
         ed, es);
  printf("%s alone (act->eval, df = NULL):              %7.3f ns\n", name, e0);
  printf("glibc tanh (scalar loop):                 %7.3f ns\n", gt);
  printf("per neuron-layer-network: 3 normals + 2 evals = %.3f ns\n", per);
  printf("floor: %.4g neuron-layer-networks x %.3f ns / %g cores = %.3f s\n", work, per, cores,
         floor_s);
  return 0;
}
