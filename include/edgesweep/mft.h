/* mft: mean-field theory (N -> infinity) of the general model, doc/physics.md §3.
 *
 * Serial, pure: no MPI, no HDF5, no printing. Every function is "Not collective".
 * Quantities that do not exist come back as NaN or +inf together with a phase code and a
 * reason, never a silent NaN.
 */
#ifndef EDGESWEEP_MFT_H
#define EDGESWEEP_MFT_H

#include "edgesweep/activation.h"
#include "edgesweep/util.h"

/* MFT phase codes (/mft/phase): X(ID, value, CF flag meaning). */
#define ES_PHASE_MAP(X)                                                   \
  X(ORDERED, 0, "ordered")               /* chi_1 < 1: c* = 1 */          \
  X(CHAOTIC, 1, "chaotic")               /* chi_1 > 1: c* < 1 */          \
  X(CRITICAL, 2, "critical")             /* chi_1 = 1 within tolerance */ \
  X(NO_FIXED_POINT, 3, "no_fixed_point") /* q grows without bound from q0 (e.g. relu, sw2 > 2) */

typedef enum {
#define ES__PH(id, v, meaning) ES_PHASE_##id = v,
  ES_PHASE_MAP(ES__PH)
#undef ES__PH
} es_phase;

const char *es_phase_name(es_phase p);

/* The model parameters the MFT needs (a plain value struct). */
typedef struct {
  const es_activation *act;
  double sigma_w2, sigma_b2;
  double leak;  /* gamma in [0, 1]; 1 is the MLP */
  double noise; /* g >= 0, independent per input */
  double q0;    /* |x|^2/N0 of both inputs */
  double c0;    /* cosine between the inputs */
} es_mft_params;

/* Fixed-point summary of one (sigma_w2, sigma_b2). */
typedef struct {
  es_phase phase;
  double q_star, c_star, chi1, chi_q, chi_c, xi_q, xi_c, lyapunov;
  char reason[ES_REASON_LEN]; /* empty when every value exists */
} es_mft_point;

/* Gaussian expectations E_q[phi^2] and E_q[phi'^2] for x ~ N(0, q). */
double es_mft_e_phi2(const es_activation *act, double q);
double es_mft_e_dphi2(const es_activation *act, double q);
/* E[phi(u_a) phi(u_b)] and E[phi'(u_a) phi'(u_b)], (u_a, u_b) ~ N(0, [[qa, qab],[qab, qb]]). */
double es_mft_e_phiphi(const es_activation *act, double qa, double qb, double qab);
double es_mft_e_dphidphi(const es_activation *act, double qa, double qb, double qab);

/* The same expectations by quadrature only, never a closed form, for cross-checks: the fast
 * trapezoid rule the maps use for smooth activations (NaN for activations without one, e.g.
 * relu) or the reference composite Gauss-Legendre rule (doc/physics.md §3.4). g = phi, or phi'
 * when deriv; e1 is E_q[g^2], e2 is E[g(u_a) g(u_b)]. */
typedef enum { ES_MFT_RULE_FAST = 0, ES_MFT_RULE_REFERENCE = 1 } es_mft_rule;
double es_mft_e1_quad(const es_activation *act, int deriv, double q, es_mft_rule rule);
double es_mft_e2_quad(const es_activation *act, int deriv, double qa, double qb, double qab,
                      es_mft_rule rule);

/* E[f(sqrt(q) z)], z ~ N(0, 1), by the module's quadrature (1e-14 for smooth f at q <~ 50). */
double es_mft_expect(double (*f)(double x, void *ctx), void *ctx, double q);

/* The q-map F(q) = (1-gamma)^2 q + sigma_w2 E_q[phi^2] + sigma_b2 + g, and
 * chi_1(q) = (1-gamma)^2 + sigma_w2 E_q[phi'^2]. */
double es_mft_qmap(const es_mft_params *p, double q);
double es_mft_chi1(const es_mft_params *p, double q);

/* Fixed point, susceptibilities, depth scales, phase. At q* = 0 (sigma_b2 = noise = 0) the
 * values are the sigma_b2 -> 0+ limits: chi_1 = chi_q = chi_c = (1-gamma)^2 + sigma_w2 L,
 * L = lim_{q->0} E_q[phi'^2] (relu 1/2), c* = 1 (doc/physics.md §3.5; at sigma_b2 = 0 exactly
 * c^t itself freezes instead of relaxing, see the trajectory). */
es_status es_mft_fixed_point(const es_mft_params *p, es_mft_point *out);

/* Critical sigma_w2 at this sigma_b2 (chi_1(q*) = 1); NaN with a reason when none. */
es_status es_mft_critical(const es_mft_params *p, double *sigma_w2_crit,
                          char reason[ES_REASON_LEN]);

/* MFT trajectory from the job's q0, c0: q[t-1], c[t-1] for t = 1..T (layer 1 is the first
 * pre-activation), and logr[t-1] = ln(r^t / r^0) of the tangent. Arrays of length T. */
es_status es_mft_trajectory(const es_mft_params *p, int T, double *q, double *c, double *logr);

/* The general model's MFT (doc/physics.md §3.1, two-time DMFT): q[t-1] = C_aa(t, t),
 * c[t-1] = C_ab(t, t) / C_aa(t, t) for the two inputs of the job (both |x|^2/N0 = q0, cosine
 * c0; noise g independent per input), and logr[t-1] = ln(r^t / r^0) of the tangent, t = 1..T.
 * shared = 1: one W and b reused at every step (architecture = recurrent); shared = 0:
 * independent layers (feedforward; then this equals es_mft_trajectory). With leak 1 and
 * noise 0 both give the same equal-time values. Costs O(T^2) 2-D expectations when shared
 * and 72 T^2 bytes. Entries past a blow-up (q > 1e300) are NaN. ES_ERR_INPUT, ES_ERR_NOMEM. */
es_status es_mft_dmft(const es_mft_params *p, int shared, int T, double *q, double *c,
                      double *logr);

/* The same, and the two-time covariances C_aa(t, t - L) and C_ab(t, t - L) (h_a at t against
 * h_a, resp. h_b, at t - L; C_ab is symmetric in its times) for each of the NT times ts[k]
 * (1..T) and NL lags: caa[k * nl + l], cab[k * nl + l]. NaN where t - L < 1 or past a
 * blow-up. shared = 0 gives the independent-weights (feedforward) C(t, s). */
es_status es_mft_dmft_two_time(const es_mft_params *p, int shared, int T, double *q, double *c,
                               double *logr, int64_t nt, const int64_t *ts, int64_t nl,
                               const int64_t *lags, double *caa, double *cab);

/* The stationary state of the recurrent general model (shared W, b; leak gamma in (0, 1],
 * noise g >= 0; doc/physics.md §3.6): C(tau) = lim Cov(h(t), h(t - tau)), the input-input
 * cross-covariance (C_inf at every lag: the inputs are forgotten), and the largest Lyapunov
 * exponent of the DMFT's tangent dynamics. */
typedef struct {
  double q_star;    /* C(0) */
  double c_inf;     /* lim_{tau -> inf} C(tau) */
  double c_star;    /* input-input correlation C_inf / C(0) (1 at a fixed point) */
  double lambda;    /* ln Lambda per step: |u(t)|^2 grows as Lambda^(2t) */
  double chi_c;     /* (1 - gamma + sqrt(sigma_w2 E[phi'(x) phi'(y)] at C_inf))^2: the
                       per-step factor of c^t - c* */
  double corr_time; /* C(tau) - C_inf ~ exp(-tau/corr_time); 0 when C(tau >= 1) = C_inf
                       (fixed point, or leak 1); inf at the edge */
  int lags;         /* lags solved for (0 at a fixed point) */
  char reason[ES_REASON_LEN];
} es_mft_stationary_state;

/* The stationary state; C (may be NULL) gets C(tau) for tau = 0..lags. ES_ERR_INPUT for
 * leak outside (0, 1], ES_ERR_NOMEM. */
es_status es_mft_stationary(const es_mft_params *p, int lags, double *C,
                            es_mft_stationary_state *s);

/* The same as a fixed-point summary: chi1 = exp(2 lambda) = Lambda^2, lyapunov, c_star,
 * chi_c, xi_c, phase from lambda; chi_q, xi_q NaN (reason set). corr_time as above. */
es_status es_mft_recurrent_point(const es_mft_params *p, es_mft_point *o, double *corr_time);

/* Critical sigma_w2 (lambda = 0) of the recurrent model at this sigma_b2, leak, noise. Noise
 * 0: gamma^2 times the standard line at sigma_b2/gamma^2; noise > 0: a root search on the
 * stationary lambda. NaN with a reason when there is none. */
es_status es_mft_recurrent_critical(const es_mft_params *p, double *sigma_w2_crit,
                                    char reason[ES_REASON_LEN]);

#endif
