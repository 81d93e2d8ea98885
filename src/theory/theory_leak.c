/* theory: the leading 1/N theory of one input's forward sector for feedforward nets with
 * leak and noise (doc/physics.md §5.6). Serial and pure; not collective.
 *
 * With a = 1 - gamma, h^{t+1} = a h^t + Y^t, the increments Y^t_i are, given the past, i.i.d.
 * N(0, G^{t+1}) over i with G^{t+1} = sigma_b2 + g + sigma_w2 (1/N) sum_j phi(h^t_j)^2. So
 * h^t_i = sum_r a^{t-r} sqrt(G^r) z^r_i with z i.i.d. N(0, 1), and every G^r and q^t is a smooth
 * functional of the empirical measure of the vectors z_i: the 1/N theory is the delta method
 * for that measure. The first-order influence of G^{t+1} is a combination of the centred
 * f_s = phi(hbar_s)^2 - E phi^2 (s <= t), whose covariances across layers, hbar_s and hbar_t
 * correlated as a^{t-s} K_s, are the new ingredient: at leak 1 they vanish and the recursions
 * are doc/physics.md 5.1's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/theory.h"
#include "quad.h"

enum { ES__NH = 160 }; /* Hermite terms of the Mehler series (rho <= a^{t-s}) */

/* Normalised Hermite coefficients E[F(z) h_n(z)], h_n = He_n/sqrt(n!), n = 0..ES__NH + 1, of
 * F = phi(sqrt(K) z)^2 - E phi^2 (c) and of (phi^2)''(sqrt(K) z) (d, by Stein:
 * E[F'' h_n] = E[F h_{n+2}] sqrt((n+1)(n+2)) / K). Also E phi^2, E phi^4. */
static void es__hermite(const es_activation *act, double K, double *c, double *d, double *g,
                        double *p4) {
  /* The rule's nodes on the stack (64 KiB): the module keeps no state between calls. */
  double z[2048], w[2048], x[2048], f[2048];
  const int n = es__normal_rule(K, 1, z, w);
  const double sq = sqrt(K);
  for (int i = 0; i < n; i++) x[i] = sq * z[i];
  act->eval((size_t)n, x, f, NULL);
  double e[ES__NH + 4] = {0}, m4 = 0;
  for (int i = 0; i < n; i++) {
    const double f2 = f[i] * f[i], wi = w[i] * f2;
    double h0 = 1, h1 = z[i];
    e[0] += wi;
    e[1] += wi * h1;
    for (int k = 1; k < ES__NH + 3; k++) {
      const double h2 = (z[i] * h1 - sqrt((double)k) * h0) / sqrt((double)k + 1);
      e[k + 1] += wi * h2;
      h0 = h1;
      h1 = h2;
    }
    m4 += w[i] * f2 * f2;
  }
  *g = e[0];
  *p4 = m4;
  for (int k = 0; k <= ES__NH; k++) {
    c[k] = k == 0 ? 0 : e[k];
    d[k] = e[k + 2] * sqrt((k + 1.0) * (k + 2.0)) / K;
  }
}

static double es__mehler(const double *u, const double *v, double rho) {
  double s = 0, r = 1;
  for (int k = 0; k <= ES__NH; k++, r *= rho) {
    s += r * u[k] * v[k];
    if (fabs(r) < 1e-18) break;
  }
  return s;
}

es_status es_theory_leak_layers(const es_mft_params *p, int T, es_theory_leak_layer *out) {
  ES_CHECK(p->leak >= 0 && p->leak <= 1 && T >= 1, ES_ERR_INPUT, "theory leak: bad parameters");
  const double a = 1 - p->leak, a2 = a * a, sw = p->sigma_w2, F = p->sigma_b2 + p->noise;
  const size_t n = (size_t)T + 1;
  /* Kc[t][s]: kappa_t = sum_s Kc[t][s] f_s, the influence of K_t = sum_r a^{2(t-r)} G^r;
   * M[s][s'] = E f_s f_s'; X[t][s] = E[(phi^2)''(hbar_t) f_s]; per layer the coefficients. */
  double *Kc = calloc(n * n, sizeof *Kc), *M = calloc(n * n, sizeof *M);
  double *X = calloc(n * n, sizeof *X), *C = calloc(n * (ES__NH + 1), sizeof *C);
  double *D = calloc(n * (ES__NH + 1), sizeof *D), *Kv = calloc(n, sizeof *Kv);
  double *g1v = calloc(n, sizeof *g1v), *P = calloc(n, sizeof *P);
  es_status st = Kc && M && X && C && D && Kv && g1v && P ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("theory leak: out of memory for %d layers", T);
#define ES__A(A, t, s) (A)[(size_t)(t)*n + (size_t)(s)]
  double K = sw * p->q0 + p->sigma_b2, K1 = 0, Dk = 0;
  for (int t = 1; st == ES_OK && t <= T; t++) {
    if (!(K > 0) || !(K < 1e100)) { /* q* = 0 class or blow-up */
      for (int u = t; u <= T; u++) out[u - 1] = (es_theory_leak_layer){NAN, NAN, NAN, NAN, NAN};
      break;
    }
    Kv[t] = K;
    double g, p4, *c = C + (size_t)t * (ES__NH + 1), *d = D + (size_t)t * (ES__NH + 1);
    es__hermite(p->act, K, c, d, &g, &p4);
    /* d E_K[phi^2]/dK and its second derivative from the Hermite coefficients (Price):
     * dE/dK = E[F h_2] sqrt(2)/(2K), d^2E/dK^2 = E[F h_4] sqrt(24)/(4K^2). */
    const double g1 = c[2] * sqrt(2.0) / (2 * K), g2 = c[4] * sqrt(24.0) / (4 * K * K);
    g1v[t] = g1;
    ES__A(M, t, t) = p4 - g * g;
    /* Layers correlated beyond what ES__NH terms sum (rho^ES__NH > 1e-10, rho ~ 1 - leak near
     * the fixed point: leak below ~0.13, the residual limit): no value rather than a wrong
     * one, from here on. */
    int slow = 0;
    for (int s = 1; s < t; s++) slow |= pow(pow(a, t - s) * sqrt(Kv[s] / K), ES__NH) > 1e-10;
    if (slow) {
      for (int u = t; u <= T; u++) out[u - 1] = (es_theory_leak_layer){NAN, NAN, NAN, NAN, NAN};
      break;
    }
    for (int s = 1; s < t; s++) {
      const double rho = pow(a, t - s) * sqrt(Kv[s] / K);
      const double *cs = C + (size_t)s * (ES__NH + 1);
      ES__A(M, t, s) = ES__A(M, s, t) = es__mehler(c, cs, rho);
      ES__A(X, t, s) = es__mehler(d, cs, rho);
    }
    /* V = N Var K_t, the cross term with h_t^2 (Price twice: Cov(x^2, f(y)) =
     * Cov(x, y)^2 E f''), and the mean shift's third term E[(phi^2)'' kappa_t]. */
    double V = 0, Y = 0, Z = 0;
    for (int s = 1; s < t; s++) {
      double ks = ES__A(Kc, t, s);
      if (ks == 0) continue;
      for (int s2 = 1; s2 < t; s2++) V += ks * ES__A(Kc, t, s2) * ES__A(M, s, s2);
      const double cov = pow(a, t - s) * Kv[s];
      Y += ks * cov * cov * 2 * g1v[s];
      Z += ks * ES__A(X, t, s);
    }
    out[t - 1] = (es_theory_leak_layer){K, K1, V, 2 * K * K + 2 * Y + V, Dk};
    if (t == T) break;
    /* Layer t + 1: G's influence psi = sw2 f_t + sw2 g1 kappa_t, kappa' = a^2 kappa + psi. */
    for (int s = 1; s < t; s++) P[s] = sw * g1 * ES__A(Kc, t, s);
    P[t] = sw;
    for (int s = 1; s <= t; s++) ES__A(Kc, t + 1, s) = a2 * (s < t ? ES__A(Kc, t, s) : 0) + P[s];
    /* The fourth cumulant of one h_i: m4 - 3 m2^2 = a^4 (same at t) + 6 a^2 Cov(h_i^2, G) +
     * 3 Var G, with N Var G = psi' M psi and N Cov(h_i^2, G) = E[(hbar^2 - K) psi] +
     * E[kappa_t psi] (the neuron's own share, and the shared G's). */
    double vG = 0, cG = 0;
    for (int s = 1; s <= t; s++) {
      const double cov = pow(a, t - s) * Kv[s];
      cG += P[s] * cov * cov * 2 * g1v[s];
      for (int s2 = 1; s2 <= t; s2++) {
        const double m = ES__A(M, s, s2);
        vG += P[s] * P[s2] * m;
        if (s < t) cG += ES__A(Kc, t, s) * m * P[s2];
      }
    }
    Dk = a2 * a2 * Dk + 6 * a2 * cG + 3 * vG;
    const double G1 = sw * (g1 * K1 + 0.5 * g2 * V + 0.5 * Z);
    K1 = a2 * K1 + G1;
    K = a2 * K + F + sw * g;
  }
#undef ES__A
  free(Kc);
  free(M);
  free(X);
  free(C);
  free(D);
  free(Kv);
  free(g1v);
  free(P);
  return st;
}

void es_theory_leak_predict(const es_theory_leak_layer *l, double N, es_theory_pred *o) {
  const double K = l->K, vq = l->Vq;
  o->q_mean = K + l->K1 / N;
  o->q_var = vq / N;
  o->logq_mean = log(K) + (l->K1 / K - vq / (2 * K * K)) / N;
  o->logq_var = vq / (N * K * K);
  o->logjac_mean = o->logjac_var = NAN; /* the tangent sector is not derived */
}

double es_theory_leak_kurtosis(const es_theory_leak_layer *l, double N) {
  return l->D4 / (N * l->K * l->K);
}
