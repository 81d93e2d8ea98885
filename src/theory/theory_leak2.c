/* theory: the leading 1/N theory of two channels of one neuron -- two inputs, or an input and
 * its tangent -- for feedforward nets with leak and noise (doc/physics.md §5.6.3). Serial and
 * pure; not collective.
 *
 * As in theory_leak.c, with a = 1 - gamma the channels' increments are, given the past, i.i.d.
 * over neurons and Gaussian with the 2x2 metric G^{t+1} = F + sigma_w2 <f(h^t)>_N, so
 * h^t_i = sum_r a^{t-r} L(G^r) z^r_i with z^r_i i.i.d. standard 2-D normals, and every G^r
 * and q^t is a smooth functional of the empirical measure of the z_i: the delta method. The
 * new ingredient against one input is that the cross-layer expectations E[f(hbar_t) f(hbar_s)]
 * are over 4-D Gaussians; whitening both layers and rotating them by the SVD of their
 * cross-covariance makes them two independent correlated pairs, and Mehler's series over
 * 2-D Hermite coefficients sums them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/theory.h"
#include "quad.h"
#include "theory_impl.h"

enum {
  ES__NH2 = 96,    /* Hermite order per axis at most */
  ES__GHMAX = 136, /* Gauss-Hermite nodes per axis at most */
  ES__QMAX = 401   /* trapezoid nodes per axis at most */
};

/* The probabilists' Gauss-Hermite rule of n nodes (weights summing to 1): Newton on the
 * orthonormal Hermite recurrence, physicists' form, then z = sqrt(2) x. */
static void es__gauss_hermite(int n, double *z, double *w) {
  const double pim4 = 0.7511255444649425; /* pi^(-1/4) */
  double x[ES__GHMAX], zz = 0;
  for (int i = 0; i < (n + 1) / 2; i++) {
    if (i == 0)
      zz = sqrt(2.0 * n + 1) - 1.85575 * pow(2.0 * n + 1, -0.16667);
    else if (i == 1)
      zz -= 1.14 * pow((double)n, 0.426) / zz;
    else if (i == 2)
      zz = 1.86 * zz - 0.86 * x[0];
    else if (i == 3)
      zz = 1.91 * zz - 0.91 * x[1];
    else
      zz = 2 * zz - x[i - 2];
    double pp = 1;
    for (int it = 0; it < 100; it++) {
      double p1 = pim4, p2 = 0;
      for (int j = 1; j <= n; j++) {
        const double p3 = p2;
        p2 = p1;
        p1 = zz * sqrt(2.0 / j) * p2 - sqrt((j - 1.0) / j) * p3;
      }
      pp = sqrt(2.0 * n) * p2;
      const double z1 = zz;
      zz = z1 - p1 / pp;
      if (fabs(zz - z1) <= 1e-15 * fmax(1, fabs(zz))) break;
    }
    x[i] = zz;
    x[n - 1 - i] = -zz;
    w[i] = w[n - 1 - i] = 2 / (pp * pp) / sqrt(ES_PI);
  }
  for (int i = 0; i < n; i++) z[i] = sqrt(2.0) * x[i];
}

/* The series' workspace: the rule and its Hermite table, kept while the rule holds. */
typedef struct {
  int q, nh;   /* nodes; Hermite orders 0..nh - 1 tabulated */
  double step; /* the trapezoid rule's step; 0: Gauss-Hermite */
  double z[ES__QMAX], w[ES__QMAX];
  double *hn;                          /* hn[i * nh + p] = h_p(z_i), h_p = He_p/sqrt(p!) */
  double *x1, *x2, *f1, *d1, *f2, *fv; /* q^2 points; fv: 3 q^2 */
  double *P, *cs, *ct;                 /* q nh; two sides' coefficients 3 nh^2 */
} es__mws;

static void es__mws_free(es__mws *m) {
  free(m->hn);
  free(m->x1);
  free(m->P);
  free(m->cs);
  memset(m, 0, sizeof *m);
}

/* The rule of Q nodes -- Gauss-Hermite when STEP is 0, else the trapezoid rule of that step
 * on [-(q-1)/2 step, (q-1)/2 step] -- with NH orders tabulated (0 when the memory is not
 * there). */
static int es__mws_fit(es__mws *m, int q, double step, int nh) {
  if (m->q == q && m->nh == nh && m->step == step) return 1;
  es__mws_free(m);
  const size_t q2 = (size_t)q * (size_t)q, h2 = (size_t)nh * (size_t)nh;
  m->hn = malloc((size_t)q * (size_t)nh * sizeof *m->hn);
  m->x1 = malloc(8 * q2 * sizeof *m->x1);
  m->P = malloc((size_t)q * (size_t)nh * sizeof *m->P);
  m->cs = malloc(6 * h2 * sizeof *m->cs);
  if (!m->hn || !m->x1 || !m->P || !m->cs) {
    es__mws_free(m);
    return 0;
  }
  m->x2 = m->x1 + q2;
  m->f1 = m->x2 + q2;
  m->d1 = m->f1 + q2;
  m->f2 = m->d1 + q2;
  m->fv = m->f2 + q2;
  m->ct = m->cs + 3 * h2;
  m->q = q;
  m->nh = nh;
  m->step = step;
  if (step > 0) {
    const int K = (q - 1) / 2;
    double wt[ES__QMAX];
    es__tweights(step, K, wt);
    for (int k = -K; k <= K; k++) {
      m->z[k + K] = k * step;
      m->w[k + K] = wt[k < 0 ? -k : k];
    }
  } else {
    es__gauss_hermite(q, m->z, m->w);
  }
  for (int i = 0; i < q; i++) {
    double *h = m->hn + (size_t)i * (size_t)nh, zi = m->z[i];
    h[0] = 1;
    if (nh > 1) h[1] = zi;
    for (int k = 1; k + 1 < nh; k++)
      h[k + 1] = (zi * h[k] - sqrt((double)k) * h[k - 1]) / sqrt(k + 1.0);
  }
  return 1;
}

/* The channels' functions f = (f11, f12, f22) at the points (x1, x2) of the rule's tensor
 * grid mapped by x = A w, into fv (3 blocks of q^2). */
static void es__fgrid(const es_activation *act, int kind, const double A[2][2], es__mws *m) {
  const int q = m->q;
  const size_t q2 = (size_t)q * (size_t)q;
  for (int i = 0; i < q; i++)
    for (int j = 0; j < q; j++) {
      const size_t k = (size_t)i * (size_t)q + (size_t)j;
      m->x1[k] = A[0][0] * m->z[i] + A[0][1] * m->z[j];
      m->x2[k] = A[1][0] * m->z[i] + A[1][1] * m->z[j];
    }
  act->eval(q2, m->x1, m->f1, m->d1);
  if (kind == ES__PAIR) act->eval(q2, m->x2, m->f2, NULL);
  for (size_t k = 0; k < q2; k++) {
    const double f = m->f1[k];
    if (kind == ES__PAIR) {
      m->fv[k] = f * f;
      m->fv[q2 + k] = f * m->f2[k];
      m->fv[2 * q2 + k] = m->f2[k] * m->f2[k];
    } else {
      const double du = m->d1[k] * m->x2[k];
      m->fv[k] = f * f;
      m->fv[q2 + k] = f * du;
      m->fv[2 * q2 + k] = du * du;
    }
  }
}

/* The 2-D Hermite coefficients c[F][p][r] = E[f_F(A w) h_p(w1) h_r(w2)], p, r < n (rows of
 * length nh), of the three functions on the grid, by two passes of the tensor rule. */
static void es__coef2(es__mws *m, int n, double *c) {
  const int q = m->q, nh = m->nh;
  const size_t q2 = (size_t)q * (size_t)q;
  for (int F = 0; F < 3; F++) {
    const double *fv = m->fv + (size_t)F * q2;
    for (int i = 0; i < q; i++) {
      double *P = m->P + (size_t)i * (size_t)nh;
      for (int r = 0; r < n; r++) P[r] = 0;
      for (int j = 0; j < q; j++) {
        const double v = m->w[j] * fv[(size_t)i * (size_t)q + (size_t)j];
        const double *h = m->hn + (size_t)j * (size_t)nh;
        for (int r = 0; r < n; r++) P[r] += v * h[r];
      }
    }
    double *cF = c + (size_t)F * (size_t)nh * (size_t)nh;
    for (int p = 0; p < n; p++)
      for (int r = 0; r < n; r++) cF[(size_t)p * (size_t)nh + (size_t)r] = 0;
    for (int i = 0; i < q; i++) {
      const double *h = m->hn + (size_t)i * (size_t)nh, *P = m->P + (size_t)i * (size_t)nh;
      for (int p = 0; p < n; p++) {
        const double v = m->w[i] * h[p];
        double *row = cF + (size_t)p * (size_t)nh;
        for (int r = 0; r < n; r++) row[r] += v * P[r];
      }
    }
  }
}

/* Lower Cholesky factor of the 2x2 metric k = (k11, k12, k22). */
static void es__chol2(const double k[3], double L[2][2]) {
  L[0][0] = sqrt(k[0]);
  L[0][1] = 0;
  L[1][0] = k[1] / L[0][0];
  L[1][1] = sqrt(fmax(k[2] - L[1][0] * L[1][0], 0));
}

/* Cross-layer expectations for layers t > s with Cov(hbar_t, hbar_s) = lam K_s:
 * M[A][C] = Cov(f_A(hbar_t), f_C(hbar_s)) and X[A][jk][C] = Cov(d_j d_k f_A(hbar_t),
 * f_C(hbar_s)) (jk over 11, 12, 22). Returns 1, or 0 when the series would need more than
 * ES__NH2 orders, -1 when the rule more than ES__QMAX nodes per axis, -2 when the memory is
 * not there. */
static int es__cross(const es_activation *act, int kind, es__mws *m, const double kt[3],
                     const double ks[3], double lam, double M[3][3], double X[3][3][3]) {
  double Lt[2][2], Ls[2][2];
  es__chol2(kt, Lt);
  es__chol2(ks, Ls);
  /* C = lam Lt^{-1} Ls, the whitened cross-covariance. */
  const double i00 = 1 / Lt[0][0], i11 = 1 / Lt[1][1], i10 = -Lt[1][0] * i00 * i11;
  const double C[2][2] = {{lam * i00 * Ls[0][0], 0},
                          {lam * (i10 * Ls[0][0] + i11 * Ls[1][0]), lam * i11 * Ls[1][1]}};
  /* SVD C = U diag(r) V^T: V from the eigenvectors of C^T C; u1 = C v1/|C v1|, u2 its
   * perpendicular (so u2.C v1 = 0 exactly as well), r2 = u2.C v2. */
  const double s11 = C[0][0] * C[0][0] + C[1][0] * C[1][0];
  const double s22 = C[0][1] * C[0][1] + C[1][1] * C[1][1];
  const double s12 = C[0][0] * C[0][1] + C[1][0] * C[1][1];
  const double th = 0.5 * atan2(2 * s12, s11 - s22), ct = cos(th), st = sin(th);
  const double V[2][2] = {{ct, -st}, {st, ct}};
  const double cv1[2] = {C[0][0] * ct + C[0][1] * st, C[1][0] * ct + C[1][1] * st};
  const double cv2[2] = {-C[0][0] * st + C[0][1] * ct, -C[1][0] * st + C[1][1] * ct};
  const double r1 = hypot(cv1[0], cv1[1]);
  double u1[2] = {1, 0};
  if (r1 > 0) u1[0] = cv1[0] / r1, u1[1] = cv1[1] / r1;
  const double u2[2] = {-u1[1], u1[0]};
  const double r2 = u2[0] * cv2[0] + u2[1] * cv2[1];
  const double rmax = fmax(fabs(r1), fabs(r2));
  /* Orders to ~1e-17 of the leading term; the series' terms fall as rmax^n times the
   * coefficients' own decay. */
  int n = rmax > 0 ? (int)ceil(log(1e-17) / log(rmax)) + 1 : 1;
  if (n < 2) n = 2;
  if (n > ES__NH2) {
    if (pow(rmax, ES__NH2) > 1e-10) return 0;
    n = ES__NH2;
  }
  /* The rule: the trapezoid rule where phi has a fast step (geometric convergence, at the
   * step for phi(sigma w), sigma the largest standard deviation of a phi argument, stretched
   * 1.5-fold from the module's ~1e-16 target to ~1e-11, and fine enough for h_p of the
   * highest order, whose growth off the axis is exp(sqrt(2p) |Im w|)); Gauss-Hermite for
   * kinks (relu). */
  const int nt = n + 2;
  const double sig = sqrt(fmax(fmax(kt[0], ks[0]), kind == ES__PAIR ? fmax(kt[2], ks[2]) : 0));
  const double hs = es__step(act->id, sig);
  int q;
  double step = 0;
  if (hs > 0) {
    step = fmin(1.5 * hs, 2 * ES_PI / (sqrt(2.0 * nt) + 12));
    const double K = ceil(ES__TL / step);
    if (!(2 * K + 1 <= ES__QMAX)) return -1;
    q = 2 * (int)K + 1;
  } else {
    q = nt + 36 > ES__GHMAX ? ES__GHMAX : ((nt + 36 + 7) / 8) * 8;
  }
  if (!es__mws_fit(m, q, step, ES__NH2 + 3)) return -2;
  const int nh = m->nh;
  /* Layer s: x = Ls V w; layer t: y = Lt U w. */
  const double As[2][2] = {
      {Ls[0][0] * V[0][0], Ls[0][0] * V[0][1]},
      {Ls[1][0] * V[0][0] + Ls[1][1] * V[1][0], Ls[1][0] * V[0][1] + Ls[1][1] * V[1][1]}};
  const double At[2][2] = {
      {Lt[0][0] * u1[0], Lt[0][0] * u2[0]},
      {Lt[1][0] * u1[0] + Lt[1][1] * u1[1], Lt[1][0] * u2[0] + Lt[1][1] * u2[1]}};
  es__fgrid(act, kind, As, m);
  es__coef2(m, n, m->cs);
  es__fgrid(act, kind, At, m);
  es__coef2(m, nt, m->ct);
  double p1[ES__NH2 + 1], p2[ES__NH2 + 1];
  p1[0] = p2[0] = 1;
  for (int i = 1; i < n; i++) p1[i] = p1[i - 1] * r1, p2[i] = p2[i - 1] * r2;
  /* Hessian in w of g(At w) from its coefficients (Stein: E[d1 d1 g h_p h_r] =
   * sqrt((p+1)(p+2)) c[p+2][r], ...), then to y: d2_y = At^{-T} d2_w At^{-1}. */
  const double det = At[0][0] * At[1][1] - At[0][1] * At[1][0];
  const double Ai[2][2] = {{At[1][1] / det, -At[0][1] / det}, {-At[1][0] / det, At[0][0] / det}};
  for (int A = 0; A < 3; A++) {
    const double *g = m->ct + (size_t)A * (size_t)nh * (size_t)nh;
#define ES__G(p, r) g[(size_t)(p) * (size_t)nh + (size_t)(r)]
    for (int Cc = 0; Cc < 3; Cc++) {
      const double *f = m->cs + (size_t)Cc * (size_t)nh * (size_t)nh;
      double s = 0, w11 = 0, w12 = 0, w22 = 0;
      for (int p = 0; p < n; p++)
        for (int r = 0; r < n; r++) {
          if (p == 0 && r == 0) continue; /* the product of the means: covariances */
          const double fr = p1[p] * p2[r] * f[(size_t)p * (size_t)nh + (size_t)r];
          s += fr * ES__G(p, r);
          w11 += fr * sqrt((p + 1.0) * (p + 2.0)) * ES__G(p + 2, r);
          w12 += fr * sqrt((p + 1.0) * (r + 1.0)) * ES__G(p + 1, r + 1);
          w22 += fr * sqrt((r + 1.0) * (r + 2.0)) * ES__G(p, r + 2);
        }
#undef ES__G
      M[A][Cc] = s;
      const double W[2][2] = {{w11, w12}, {w12, w22}};
      static const int jk[3][2] = {{0, 0}, {0, 1}, {1, 1}};
      for (int e = 0; e < 3; e++) {
        const int j = jk[e][0], k = jk[e][1];
        double x = 0;
        for (int a = 0; a < 2; a++)
          for (int b = 0; b < 2; b++) x += Ai[a][j] * W[a][b] * Ai[b][k];
        X[A][e][Cc] = x;
      }
    }
  }
  return 1;
}

/* Layers FROM..T-1: all NaN with reason EDGE. */
static void es__leak2_stop(es_theory_leak2_layer *out, int from, int T, int edge) {
  for (int u = from; u < T; u++) {
    for (int i = 0; i < 3; i++) {
      out[u].k[i] = out[u].K1[i] = NAN;
      for (int j = 0; j < 3; j++) out[u].Cq[i][j] = NAN;
    }
    out[u].edge = edge;
  }
}

es_status es_theory_leak2_layers(const es_mft_params *p, int kind, double qa0, double qb0,
                                 double qab0, int T, es_theory_leak2_layer *out) {
  ES_CHECK(p->leak >= 0 && p->leak <= 1 && T >= 1 && (kind == ES__PAIR || kind == ES__TANGENT),
           ES_ERR_INPUT, "theory leak: bad parameters");
  const double a = 1 - p->leak, a2 = a * a, sw = p->sigma_w2, sb = p->sigma_b2, g = p->noise;
  const int pair = kind == ES__PAIR;
  /* The noise is independent between the two inputs and does not enter the tangent. */
  const double Fv[3] = {sb + g, pair ? sb : 0, pair ? sb + g : 0};
  double k[3] = {sw * qa0 + sb, pair ? sw * qab0 + sb : 0, pair ? sw * qb0 + sb : sw};
  const int Tc = T < ES_THEORY_LEAK2_TMAX ? T : ES_THEORY_LEAK2_TMAX;
  const size_t n = (size_t)Tc + 2; /* Kc of layer Tc + 1 is formed, then unused */
  /* Kc[t][s]: kappa_t = sum_s Kc[t][s] f_s (the influence of K_t, 3 x 3 per layer pair);
   * M[t][s] = Cov(f(hbar_t), f(hbar_s)) for s <= t; Kv, Jv: each layer's metric and J. */
  double *Kc = calloc(n * n * 9, sizeof *Kc), *M = calloc(n * n * 9, sizeof *M);
  double *Kv = calloc(n * 3, sizeof *Kv), *Jv = calloc(n * 9, sizeof *Jv);
  es__mws mw;
  memset(&mw, 0, sizeof mw);
  es_status st = Kc && M && Kv && Jv ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("theory leak: out of memory for %d layers", T);
#define ES__B(A, t, s) ((A) + ((size_t)(t)*n + (size_t)(s)) * 9)
  double K1[3] = {0, 0, 0};
  int edge = 0;
  for (int t = 1; st == ES_OK && t <= T; t++) {
    if (t > Tc) {
      es__leak2_stop(out, t - 1, T, 5);
      break;
    }
    if (!(k[0] > 0 && k[2] > 0) || !(k[0] < 1e100 && k[2] < 1e100)) {
      es__leak2_stop(out, t - 1, T, 2);
      break;
    }
    if (pair && edge == 0 && !(1 - fabs(k[1] / sqrt(k[0] * k[2])) >= ES_THEORY_CEDGE)) edge = 1;
    es_theory_leak2_layer *o = &out[t - 1];
    if (edge == 1) { /* the MFT metric on, as es_theory2_layers */
      memcpy(o->k, k, sizeof k);
      for (int i = 0; i < 3; i++) {
        o->K1[i] = NAN;
        for (int j = 0; j < 3; j++) o->Cq[i][j] = NAN;
      }
      o->edge = 1;
      const double m[3] = {es_mft_e_phi2(p->act, k[0]), es_mft_e_phiphi(p->act, k[0], k[2], k[1]),
                           es_mft_e_phi2(p->act, k[2])};
      for (int i = 0; i < 3; i++) k[i] = a2 * k[i] + Fv[i] + sw * m[i];
      continue;
    }
    const int closed = p->act->id == ES_ACT_RELU || p->act->id == ES_ACT_LINEAR;
    if (pair && !closed && !(fmax(k[0], k[2]) <= ES_THEORY_QMAX2)) {
      es__leak2_stop(out, t - 1, T, 3);
      break;
    }
    es__same3 S;
    st = es__theory_same(p->act, kind, k, &S);
    if (st != ES_OK) break;
    memcpy(Kv + 3 * t, k, sizeof k);
    memcpy(Jv + 9 * t, S.J, sizeof S.J);
    memcpy(ES__B(M, t, t), S.C, sizeof S.C);
    /* Cross-layer terms: Z (the mean's Stein term, (1/2) E tr(d2 f_A kappa_t)) and Yt
     * (E[(hbar_t hbar_t^T - K_t)_A kappa_t,B], Price: lam^2 K_s D_C K_s, D_C = E d2 f_C). */
    double Z[3] = {0, 0, 0}, Yt[3][3] = {{0}};
    static const int ix[3][2] = {{0, 0}, {0, 1}, {1, 1}};
    static const double wjk[3] = {1, 2, 1};
    int diverged = 0;
    for (int s = 1; s < t && !diverged; s++) {
      const double lam = pow(a, t - s);
      double *Mts = ES__B(M, t, s);
      if (!(lam > 1e-17)) continue; /* below rounding: independent layers, as at leak 1 */
      double X[3][3][3];
      const int r = es__cross(p->act, kind, &mw, k, Kv + 3 * s, lam, (double(*)[3])Mts, X);
      if (r == -2) {
        st = ES_ERR_NOMEM;
        es_error_set("theory leak: out of memory for the 2-D Hermite series");
      }
      if (r != 1) {
        diverged = r == -1 ? 3 : 4;
        break;
      }
      const double *kc = ES__B(Kc, t, s), *ks = Kv + 3 * s, *J = Jv + 9 * s;
      for (int A = 0; A < 3; A++)
        for (int e = 0; e < 3; e++)
          for (int Cc = 0; Cc < 3; Cc++) Z[A] += 0.5 * wjk[e] * X[A][e][Cc] * kc[e * 3 + Cc];
      const double Ks[2][2] = {{ks[0], ks[1]}, {ks[1], ks[2]}};
      for (int Cc = 0; Cc < 3; Cc++) {
        /* D_C[l][m] = E d_l d_m f_C(hbar_s) = (2 if l = m) dm_C/dk_lm (Price). */
        const double D[2][2] = {{2 * J[Cc * 3 + 0], J[Cc * 3 + 1]},
                                {J[Cc * 3 + 1], 2 * J[Cc * 3 + 2]}};
        for (int A = 0; A < 3; A++) {
          const int j = ix[A][0], kk = ix[A][1];
          double y = 0;
          for (int l = 0; l < 2; l++)
            for (int mm = 0; mm < 2; mm++) y += Ks[j][l] * D[l][mm] * Ks[kk][mm];
          y *= lam * lam;
          for (int B = 0; B < 3; B++) Yt[A][B] += kc[B * 3 + Cc] * y;
        }
      }
    }
    if (diverged) {
      es__leak2_stop(out, t - 1, T, diverged);
      break;
    }
    /* V = N Cov(K_t) = sum_{s, s'} Kc[t][s] M[s][s'] Kc[t][s']^T. */
    double V[3][3] = {{0}};
    for (int s = 1; s < t; s++) {
      const double *ka = ES__B(Kc, t, s);
      double KM[3][3] = {{0}}; /* sum_s' M[s][s'] Kc[t][s']^T, then Kc[t][s] times it */
      for (int s2 = 1; s2 < t; s2++) {
        const double *kb = ES__B(Kc, t, s2);
        const double *Mx = s >= s2 ? ES__B(M, s, s2) : ES__B(M, s2, s);
        for (int Cc = 0; Cc < 3; Cc++)
          for (int B = 0; B < 3; B++) {
            double x = 0;
            for (int D = 0; D < 3; D++)
              x += (s >= s2 ? Mx[Cc * 3 + D] : Mx[D * 3 + Cc]) * kb[B * 3 + D];
            KM[Cc][B] += x;
          }
      }
      for (int A = 0; A < 3; A++)
        for (int B = 0; B < 3; B++)
          for (int Cc = 0; Cc < 3; Cc++) V[A][B] += ka[A * 3 + Cc] * KM[Cc][B];
    }
    const double Km[2][2] = {{k[0], k[1]}, {k[1], k[2]}};
    memcpy(o->k, k, sizeof k);
    memcpy(o->K1, K1, sizeof K1);
    for (int A = 0; A < 3; A++)
      for (int B = 0; B < 3; B++) {
        const int i = ix[A][0], j = ix[A][1], c = ix[B][0], d = ix[B][1];
        o->Cq[A][B] = Km[i][c] * Km[j][d] + Km[i][d] * Km[j][c] + Yt[A][B] + Yt[B][A] + V[A][B];
      }
    o->edge = 0;
    if (t == T) break;
    /* Layer t + 1: G1 = sw2 [J K1 + H:V/2 + Z]; psi_{t+1} = sw2 (f_t + J kappa_t),
     * kappa_{t+1} = a^2 kappa_t + psi_{t+1}. */
    double G1[3];
    for (int A = 0; A < 3; A++) {
      double x = Z[A];
      for (int B = 0; B < 3; B++) {
        x += S.J[A][B] * K1[B];
        for (int Cc = 0; Cc < 3; Cc++) x += 0.5 * S.H[A][B][Cc] * V[B][Cc];
      }
      G1[A] = sw * x;
    }
    for (int A = 0; A < 3; A++) K1[A] = a2 * K1[A] + G1[A];
    for (int s = 1; s < t; s++) {
      const double *kc = ES__B(Kc, t, s);
      double *kn = ES__B(Kc, t + 1, s);
      for (int A = 0; A < 3; A++)
        for (int Cc = 0; Cc < 3; Cc++) {
          double x = 0;
          for (int B = 0; B < 3; B++) x += S.J[A][B] * kc[B * 3 + Cc];
          kn[A * 3 + Cc] = a2 * kc[A * 3 + Cc] + sw * x;
        }
    }
    double *kn = ES__B(Kc, t + 1, t);
    for (int A = 0; A < 3; A++) kn[A * 3 + A] = sw;
    for (int i = 0; i < 3; i++) k[i] = a2 * k[i] + Fv[i] + sw * S.m[i];
  }
#undef ES__B
  es__mws_free(&mw);
  free(Kc);
  free(M);
  free(Kv);
  free(Jv);
  return st;
}

void es_theory_leak2_pair_predict(const es_theory_leak2_layer *l, double N, es_theory2_pred *o) {
  *o = (es_theory2_pred){NAN, NAN, NAN, NAN};
  if (l->edge >= 2) return;
  if (l->edge == 1) {
    o->c_mean = l->k[1] / sqrt(l->k[0] * l->k[2]);
    return;
  }
  es__theory2_pred_cq(l->k, l->K1, (const double(*)[3])l->Cq, N, o);
}

void es_theory_leak2_tangent_predict(const es_theory_leak2_layer *l, double N, es_theory_pred *o) {
  const double R = l->k[2], vr = l->Cq[2][2];
  o->logjac_mean = l->edge ? NAN : log(R) + (l->K1[2] / R - vr / (2 * R * R)) / N;
  o->logjac_var = l->edge ? NAN : vr / (N * R * R);
}
