/* mft: the stationary state of the general model's two-time DMFT with shared weights
 * (architecture recurrent), its Lyapunov exponent from the DMFT's tangent dynamics, phase
 * and critical line (doc/physics.md §3.6). Serial, pure, not collective.
 *
 * With a = 1 - gamma, h(t+1) = a h(t) + Y(t) and the increments Y a Gaussian process of
 * covariance Q(t - s), a stationary h has C(tau) = Cov(h(t), h(t - tau)) solving
 *   (1 + a^2) C(tau) - a [C(tau + 1) + C(tau - 1)] = Q(tau),
 *   Q(tau) = sigma_w2 E[phi(x) phi(y)] + sigma_b2 + g [tau = 0],  Var x = Var y = C(0),
 *   Cov(x, y) = C(tau).
 * It is solved on lags 0..L (C(L + 1) = C(L): the tail has relaxed) by Picard iteration,
 * each sweep one tridiagonal solve. The tangent's covariance grows as U(t, s) ~
 * Lambda^(t+s) V(t - s), with V the top eigenvector of
 *   K(tau) V(tau) + a Lambda [V(tau + 1) + V(tau - 1)] = (Lambda^2 + a^2) V(tau),
 *   K(tau) = sigma_w2 E[phi'(x) phi'(y)],
 * and lambda = ln Lambda per step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/mft.h"

/* The tridiagonal lag operator with C(-1) = C(1) and C(L + 1) = C(L): solve for C given Q
 * (Thomas algorithm; diagonally dominant for gamma > 0: every row sums to gamma^2). */
static void es__lag_solve(double a, int L, const double *Q, double *C, double *cp, double *dp) {
  const double d = 1 + a * a;
  if (L == 0) {
    C[0] = Q[0] / ((1 - a) * (1 - a));
    return;
  }
  /* row 0: d C0 - 2a C1; rows 1..L-1: -a, d, -a; row L: -a C_{L-1} + (d - a) C_L */
  double b0 = d, c0 = -2 * a;
  cp[0] = c0 / b0;
  dp[0] = Q[0] / b0;
  for (int i = 1; i <= L; i++) {
    double bi = i == L ? d - a : d, ci = i == L ? 0 : -a;
    double m = bi - (-a) * cp[i - 1];
    cp[i] = ci / m;
    dp[i] = (Q[i] + a * dp[i - 1]) / m;
  }
  C[L] = dp[L];
  for (int i = L - 1; i >= 0; i--) C[i] = dp[i] - cp[i] * C[i + 1];
}

/* Q(tau) for tau = 0..L from C. */
static void es__lag_q(const es_mft_params *p, int L, const double *C, double *Q) {
  const double c0 = C[0];
  Q[0] = p->sigma_w2 * es_mft_e_phi2(p->act, c0) + p->sigma_b2 + p->noise;
  for (int t = 1; t <= L; t++) {
    double ct = C[t];
    if (ct > c0) ct = c0;
    if (ct < -c0) ct = -c0;
    Q[t] = p->sigma_w2 * es_mft_e_phiphi(p->act, c0, c0, ct) + p->sigma_b2;
  }
}

/* Number of eigenvalues below x of the symmetric tridiagonal matrix with diagonal D and
 * constant off-diagonal e (Sturm sequence). */
static int es__sturm(int n, const double *D, double e, double x) {
  int cnt = 0;
  double q = 1;
  for (int i = 0; i < n; i++) {
    q = D[i] - x - (i ? e * e / q : 0);
    if (q == 0) q = -1e-300;
    if (q < 0) cnt++;
  }
  return cnt;
}

/* Top eigenvalue of that matrix, between lo and hi (bisection on the Sturm count). */
static double es__top_eig(int n, const double *D, double e, double lo, double hi) {
  for (int it = 0; it < 200 && hi - lo > 1e-15 * fabs(hi); it++) {
    double m = 0.5 * (lo + hi);
    if (es__sturm(n, D, e, m) >= n)
      hi = m;
    else
      lo = m;
  }
  return 0.5 * (lo + hi);
}

/* Lambda from K(0..L): the root of E_max(Lambda) = Lambda^2 + a^2 in
 * [a + sqrt(K_inf), a + sqrt(K_0)] (E_max lies between K_inf + 2 a Lambda and K_0 + 2 a Lambda).
 * The lag axis is symmetric, tau in [-M, M], M = 2L, K(|tau| > L) = K(L). */
static double es__lambda(double a, int L, const double *K, double *D) {
  const double k0 = K[0], kinf = K[L];
  if (a == 0) return sqrt(k0);
  const int M = 2 * L, n = 2 * M + 1;
  for (int i = -M; i <= M; i++) {
    int t = i < 0 ? -i : i;
    D[i + M] = K[t > L ? L : t];
  }
  double lo = a + sqrt(kinf > 0 ? kinf : 0), hi = a + sqrt(k0);
  if (hi - lo <= 1e-15 * hi) return hi;
  for (int it = 0; it < 200 && hi - lo > 2e-15 * hi; it++) {
    double lam = 0.5 * (lo + hi), e = a * lam;
    double top = es__top_eig(n, D, e, kinf - 2 * e - 1e-12, k0 + 2 * e + 1e-12);
    if (top > lam * lam + a * a)
      lo = lam;
    else
      hi = lam;
  }
  return 0.5 * (lo + hi);
}

/* Solve the tridiagonal system (sub-diagonal -e, diagonal d[i], super-diagonal -e, but -2e
 * in row 0: the mirror C(-1) = C(1)) for x; 0 when a pivot vanishes. */
static int es__tri(int n, double e, const double *d, const double *r, double *x, double *cp) {
  double m = d[0];
  if (m == 0) return 0;
  cp[0] = (n > 1 ? -2 * e : 0) / m;
  x[0] = r[0] / m;
  for (int i = 1; i < n; i++) {
    m = d[i] + e * cp[i - 1];
    if (m == 0) return 0;
    cp[i] = (i + 1 < n ? -e : 0) / m;
    x[i] = (r[i] + e * x[i - 1]) / m;
  }
  for (int i = n - 2; i >= 0; i--) x[i] -= cp[i] * x[i + 1];
  return 1;
}

/* One Newton step on R(C) = S C - Q(C) (S the lag operator): the Jacobian is tridiagonal,
 * S - diag(K), plus the column dQ/dC(0) (both variances move), handled by Sherman-Morrison.
 * K(tau) = sigma_w2 E[phi'(x) phi'(y)] (Price), dQ/dC(0) by a central difference. Returns
 * the largest |R| before the step, or -1 when the system is singular. */
static double es__newton_step(const es_mft_params *p, int L, double *C, double *w) {
  const int n = L + 1;
  const double a = 1 - p->leak, sw2 = p->sigma_w2, c0 = C[0], h = 1e-5 * c0;
  double *Q = w, *R = w + n, *d = w + 2 * n, *u = w + 3 * n, *x = w + 4 * n, *y = w + 5 * n,
         *cp = w + 6 * n;
  es__lag_q(p, L, C, Q);
  double rmax = 0;
  for (int t = 0; t <= L; t++) {
    double lo = t == 0 ? C[1 < L ? 1 : L] : C[t - 1], hi = t == L ? C[L] : C[t + 1];
    double sc = (1 + a * a) * C[t] - a * (lo + (t == 0 ? lo : hi));
    if (L == 0) sc = (1 - a) * (1 - a) * C[0];
    R[t] = sc - Q[t];
    if (fabs(R[t]) > rmax) rmax = fabs(R[t]);
    double ct = C[t] > c0 ? c0 : (C[t] < -c0 ? -c0 : C[t]);
    if (t == 0) {
      u[0] = sw2 * (es_mft_e_phi2(p->act, c0 + h) - es_mft_e_phi2(p->act, c0 - h)) / (2 * h);
      d[0] = 1 + a * a;
    } else {
      u[t] = sw2 *
             (es_mft_e_phiphi(p->act, c0 + h, c0 + h, ct) -
              es_mft_e_phiphi(p->act, c0 - h, c0 - h, ct)) /
             (2 * h);
      d[t] = 1 + a * a - (t == L ? a : 0) - sw2 * es_mft_e_dphidphi(p->act, c0, c0, ct);
    }
    R[t] = -R[t];
  }
  if (L == 0) d[0] = (1 - a) * (1 - a);
  if (!es__tri(n, a, d, R, x, cp) || !es__tri(n, a, d, u, y, cp) || y[0] == 1) return -1;
  const double f = x[0] / (1 - y[0]);
  for (int t = 0; t <= L; t++) C[t] += x[t] + y[t] * f;
  return rmax;
}

/* The solve on L lags from the start in C (overwritten): Picard sweeps (each one
 * tridiagonal solve; they pull away from the unstable constant solution in chaos), then
 * Newton (Picard slows down as 1/|sigma_w2 - line| near the edge of chaos). 0 when
 * converged, 1 when not, 2 on blow-up. */
static int es__stationary_solve(const es_mft_params *p, int L, double *C, double *w, int sweeps) {
  double *Q = w, *Cn = w + (L + 1), *cp = w + 2 * (L + 1), *dp = w + 3 * (L + 1);
  const double a = 1 - p->leak;
  int it;
  for (it = 0; it < sweeps; it++) {
    es__lag_q(p, L, C, Q);
    es__lag_solve(a, L, Q, Cn, cp, dp);
    double dmax = 0;
    for (int t = 0; t <= L; t++) {
      if (!isfinite(Cn[t]) || Cn[t] > 1e300) return 2;
      double dd = fabs(Cn[t] - C[t]);
      if (dd > dmax) dmax = dd;
      C[t] = Cn[t];
    }
    if (dmax <= 1e-14 * (C[0] > 1e-300 ? C[0] : 1e-300)) return 0;
  }
  double *keep = w + 7 * (L + 1);
  memcpy(keep, C, (size_t)(L + 1) * sizeof *C);
  double prev = INFINITY;
  for (it = 0; it < 40; it++) {
    double r = es__newton_step(p, L, C, w);
    int bad = r < 0 || !(r <= 1e3 * prev);
    for (int t = 0; t <= L && !bad; t++) bad = !isfinite(C[t]) || !(C[t] <= C[0] * (1 + 1e-12));
    if (bad) break;
    if (r <= 1e-13 * C[0]) return 0;
    prev = r;
  }
  memcpy(C, keep, (size_t)(L + 1) * sizeof *C); /* Newton failed: Picard's iterate */
  return 1;
}

es_status es_mft_stationary(const es_mft_params *p, int lags, double *C_out,
                            es_mft_stationary_state *s) {
  ES_CHECK(p->act && p->sigma_w2 > 0 && p->sigma_b2 >= 0 && p->noise >= 0 && p->q0 > 0 &&
               p->leak > 0 && p->leak <= 1 && lags >= 0,
           ES_ERR_INPUT, "mft stationary: bad parameters (leak must lie in (0, 1])");
  memset(s, 0, sizeof *s);
  const double a = 1 - p->leak, g2 = p->leak * p->leak;
  /* The fixed point h* = a h* + W phi(h*) + b: C(tau) = q* with gamma^2 q* = sigma_w2 E[phi^2]
   * + sigma_b2, the standard q-map at (sigma_w2, sigma_b2)/gamma^2. Stable (as a fixed point
   * of the dynamics: spectral radius a + sqrt(sigma_w2 E phi'^2) < 1) iff that map's chi_1 < 1. */
  es_mft_params sc = *p;
  sc.sigma_w2 = p->sigma_w2 / g2;
  sc.sigma_b2 = p->sigma_b2 / g2;
  sc.leak = 1;
  sc.noise = 0;
  es_mft_point fp;
  ES_CALL(es_mft_fixed_point(&sc, &fp));
  if (p->noise == 0 && (fp.phase == ES_PHASE_ORDERED || fp.phase == ES_PHASE_CRITICAL)) {
    double k0 = g2 * fp.chi1; /* sigma_w2 E[phi'^2] at q* */
    s->q_star = fp.q_star;
    s->c_inf = fp.q_star;
    s->c_star = 1;
    s->lambda = log(a + sqrt(k0));
    s->chi_c = (a + sqrt(k0)) * (a + sqrt(k0));
    s->corr_time = 0; /* C(tau) is constant */
    s->lags = 0;
    if (C_out)
      for (int t = 0; t <= lags; t++) C_out[t] = fp.q_star;
    return ES_OK;
  }
  if (!isfinite(fp.q_star) && p->act->id != ES_ACT_TANH && p->act->id != ES_ACT_ERF &&
      p->act->id != ES_ACT_SIN) {
    /* unbounded activations past their line: the variance grows without bound */
    s->q_star = INFINITY;
    s->lambda = s->c_inf = s->c_star = s->chi_c = s->corr_time = NAN;
    if (p->act->id == ES_ACT_LINEAR) /* K(tau) = sigma_w2 at any C: Lambda = a + sqrt(sigma_w2) */
      s->lambda = log(a + sqrt(p->sigma_w2));
    snprintf(s->reason, sizeof s->reason, "recurrent: C(0) grows without bound");
    return ES_OK;
  }
  /* Lags: at least 30 correlation times, mu^L < 1e-13 (doubled from a warm start until so). */
  int L = 64 + (int)ceil(40.0 / p->leak), rc = 1, prevL = -1;
  double *buf = NULL;
  double c0 = isfinite(fp.q_star) && fp.q_star > 0 ? fp.q_star : p->sigma_w2 * p->q0 + p->sigma_b2;
  c0 += p->noise;
  for (;;) {
    double *nb = realloc(buf, ((size_t)(L + 1) * 10 + (size_t)(4 * L + 1)) * sizeof *buf);
    if (!nb) free(buf);
    ES_CHECK(nb != NULL, ES_ERR_NOMEM, "mft stationary: out of memory for %d lags", L);
    buf = nb;
    double *C = buf, *w = buf + (L + 1);
    if (prevL < 0) /* a decaying start, away from the (unstable, in chaos) constant solution */
      for (int t = 0; t <= L; t++) C[t] = c0 * (t == 0 ? 1 : 0.5 * pow(0.5, t));
    else
      for (int t = prevL + 1; t <= L; t++) C[t] = C[prevL];
    rc = es__stationary_solve(p, L, C, w, prevL < 0 ? 300 : 30);
    if (rc == 2 || L >= 8000) break;
    double kx = p->sigma_w2 * es_mft_e_dphidphi(p->act, C[0], C[0], fmin(C[L], C[0]));
    double B = (1 + a * a - kx) / a, mu = B > 2 ? 0.5 * (B - sqrt(B * B - 4)) : 1;
    if (rc == 0 && (a == 0 || (mu < 1 && L * -log(mu) >= 30))) break;
    prevL = L;
    L *= 2;
  }
  double *C = buf, *K = buf + 9 * (L + 1), *D = buf + 10 * (L + 1);
  if (rc != 0) {
    s->q_star = rc == 2 ? INFINITY : NAN;
    s->lambda = s->c_inf = s->c_star = s->chi_c = s->corr_time = NAN;
    snprintf(s->reason, sizeof s->reason, "%s",
             rc == 2 ? "recurrent: C(0) grows without bound"
                     : "recurrent: stationary DMFT not converged (edge of chaos)");
    free(buf);
    return ES_OK;
  }
  const double q = C[0];
  for (int t = 0; t <= L; t++) {
    double ct = C[t] > q ? q : C[t];
    K[t] = p->sigma_w2 * (t == 0 ? es_mft_e_dphi2(p->act, q) : es_mft_e_dphidphi(p->act, q, q, ct));
  }
  s->q_star = q;
  s->c_inf = C[L];
  s->c_star = C[L] / q; /* two inputs share W, b: their cross-covariance is C_inf at all lags */
  s->lambda = log(es__lambda(a, L, K, D));
  double kx = K[L], lc = a + sqrt(kx > 0 ? kx : 0);
  s->chi_c = lc * lc;
  /* C(tau) - C_inf ~ mu^tau: mu + 1/mu = (1 + a^2 - K_x)/a (the linearised lag equation). */
  if (a == 0) {
    s->corr_time = 0;
  } else {
    double B = (1 + a * a - kx) / a;
    s->corr_time = B > 2 ? -1 / log(0.5 * (B - sqrt(B * B - 4))) : INFINITY;
  }
  s->lags = L;
  if (C_out)
    for (int t = 0; t <= lags; t++) C_out[t] = C[t > L ? L : t];
  free(buf);
  return ES_OK;
}

es_status es_mft_recurrent_point(const es_mft_params *p, es_mft_point *o, double *corr_time) {
  if (p->leak == 1 && p->noise == 0) { /* shared and fresh weights agree: the standard maps */
    *corr_time = 0;
    return es_mft_fixed_point(p, o);
  }
  es_mft_stationary_state s;
  ES_CALL(es_mft_stationary(p, 0, NULL, &s));
  memset(o, 0, sizeof *o);
  o->q_star = s.q_star;
  o->c_star = s.c_star;
  o->chi1 = exp(2 * s.lambda);
  o->lyapunov = s.lambda;
  o->chi_c = s.chi_c;
  o->xi_c = s.chi_c >= 1 ? INFINITY : -1 / log(s.chi_c);
  /* The relaxation of C(t, t) to q* is a two-time problem with no single rate here. */
  o->chi_q = o->xi_q = NAN;
  *corr_time = s.corr_time;
  if (!isfinite(s.q_star)) {
    /* Not converged happens only beside the noiseless line on its chaotic side (the ordered
     * side is in closed form). */
    o->phase = isnan(s.q_star) && p->noise == 0 ? ES_PHASE_CHAOTIC : ES_PHASE_NO_FIXED_POINT;
    o->lyapunov = s.lambda; /* linear: the closed form; else NaN */
    o->chi1 = exp(2 * s.lambda);
    o->chi_c = o->xi_c = NAN;
    snprintf(o->reason, sizeof o->reason, "%s", s.reason);
    return ES_OK;
  }
  if (fabs(o->chi1 - 1) < 1e-10)
    o->phase = ES_PHASE_CRITICAL;
  else
    o->phase = o->chi1 < 1 ? ES_PHASE_ORDERED : ES_PHASE_CHAOTIC;
  const char *why = "recurrent: no chi_q, xi_q (two-time relaxation)";
  if (s.reason[0])
    snprintf(o->reason, sizeof o->reason, "%.40s; %s", s.reason, why);
  else
    snprintf(o->reason, sizeof o->reason, "%s", why);
  return ES_OK;
}

typedef struct {
  es_mft_params p;
} es__rcrit;

static double es__rcrit_res(double sw2, const es__rcrit *x) {
  es_mft_params p = x->p;
  p.sigma_w2 = sw2;
  es_mft_stationary_state s;
  if (es_mft_stationary(&p, 0, NULL, &s) != ES_OK || !isfinite(s.q_star)) return INFINITY;
  return s.lambda;
}

es_status es_mft_recurrent_critical(const es_mft_params *p, double *sw2c,
                                    char reason[ES_REASON_LEN]) {
  reason[0] = '\0';
  *sw2c = NAN;
  ES_CHECK(p->leak > 0 && p->leak <= 1, ES_ERR_INPUT, "leak must lie in (0, 1]");
  const double g2 = p->leak * p->leak;
  /* Noise 0: the line is where the fixed point loses stability, sigma_w2 E_q*[phi'^2] =
   * gamma^2 with gamma^2 q* = sigma_w2 E[phi^2] + sigma_b2: the standard line rescaled. */
  es_mft_params sc = *p;
  sc.sigma_w2 = 1;
  sc.sigma_b2 = p->sigma_b2 / g2;
  sc.leak = 1;
  sc.noise = 0;
  double c0;
  ES_CALL(es_mft_critical(&sc, &c0, reason));
  if (p->noise == 0 || !isfinite(c0)) {
    *sw2c = g2 * c0; /* NaN with es_mft_critical's reason when there is no line */
    return ES_OK;
  }
  /* Noise: lambda(sigma_w2) = 0 from the stationary solution, bracketed upwards from the
   * noiseless line (noise saturates phi and moves the line to larger sigma_w2). */
  es__rcrit x = {*p};
  double lo = g2 * c0 * 0.9, flo = es__rcrit_res(lo, &x), hi = lo, fhi = flo;
  while (flo > 0 && lo > 1e-3) {
    hi = lo;
    fhi = flo;
    lo *= 0.7;
    flo = es__rcrit_res(lo, &x);
  }
  while (fhi < 0 && hi < 1e4) {
    lo = hi;
    flo = fhi;
    hi *= 1.2;
    fhi = es__rcrit_res(hi, &x);
  }
  if (!(flo < 0 && fhi >= 0) || !isfinite(fhi)) {
    snprintf(reason, ES_REASON_LEN, "recurrent: lambda = 0 not bracketed");
    return ES_OK;
  }
  /* Bisection with secant steps (lambda is smooth in sigma_w2 here). */
  for (int it = 0; it < 100 && hi - lo > 1e-11 * hi; it++) {
    double m = lo - flo * (hi - lo) / (fhi - flo);
    if (!(m > lo + 0.05 * (hi - lo) && m < hi - 0.05 * (hi - lo))) m = 0.5 * (lo + hi);
    double fm = es__rcrit_res(m, &x);
    if (fm < 0) {
      lo = m;
      flo = fm;
    } else {
      hi = m;
      fhi = fm;
    }
  }
  *sw2c = lo - flo * (hi - lo) / (fhi - flo);
  return ES_OK;
}
