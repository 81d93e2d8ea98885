/* The whole /mft of a 100 x 100 (sigma_w2, sigma_b2) grid: fixed point, chi's,
 * depth scales and phase per pair, a 20-layer trajectory per pair, and the critical sigma_w2
 * per sigma_b2. Prints the seconds. Usage: bench_mft [activation] [n] [layers] [leak]
 * [shared]: shared = 1 times the recurrent nets' trajectories (two-time DMFT, O(T^2)). */
#include <stdio.h>
#include <stdlib.h>

#include "edgesweep/mft.h"

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "tanh";
  int n = argc > 2 ? atoi(argv[2]) : 100, T = argc > 3 ? atoi(argv[3]) : 20;
  double leak = argc > 4 ? atof(argv[4]) : 1;
  int shared = argc > 5 ? atoi(argv[5]) : 0;
  const es_activation *act = es_activation_find(name);
  if (!act || n < 2 || T < 1 || !(leak >= 0 && leak <= 1)) {
    fprintf(stderr, "usage: bench_mft [activation] [n >= 2] [layers >= 1] [leak] [shared]\n");
    return 2;
  }
  double *q = malloc(3 * (size_t)T * sizeof *q), t0 = es_wtime(), tfp = 0, ttr = 0, tcr = 0;
  int phases[4] = {0};
  for (int ib = 0; ib < n; ib++) {
    es_mft_params p = {act, 1, 1.0 * ib / (n - 1), leak, 0, 1, 0.5};
    for (int iw = 0; iw < n; iw++) {
      p.sigma_w2 = 0.5 + 3.5 * iw / (n - 1);
      es_mft_point o;
      double a = es_wtime();
      es_mft_fixed_point(&p, &o);
      double b = es_wtime();
      if (shared)
        es_mft_dmft(&p, 1, T, q, q + T, q + 2 * T);
      else
        es_mft_trajectory(&p, T, q, q + T, q + 2 * T);
      ttr += es_wtime() - b;
      tfp += b - a;
      phases[o.phase]++;
    }
    double c, a = es_wtime();
    char why[96];
    es_mft_critical(&p, &c, why);
    tcr += es_wtime() - a;
  }
  printf(
      "%s%s %dx%d grid, %d layers: %.2f s (fixed points %.2f s, trajectories %.2f s, "
      "critical line %.3f s); phases ordered %d chaotic %d critical %d none %d\n",
      name, shared ? " shared-weight DMFT" : "", n, n, T, es_wtime() - t0, tfp, ttr, tcr, phases[0],
      phases[1], phases[2], phases[3]);
  free(q);
  return 0;
}
