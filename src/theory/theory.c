#include "edgesweep/theory.h"

#include <math.h>

/* Gaussian expectations at variance K that the recursions need (physics.md §5.1), with
 * x = sqrt(K) z: g = E phi^2, g1 = E[phi^2 He2]/(2K), g2 = E[phi^2 He4]/(4K^2),
 * a = E phi'^2, a1, a2 alike, b = E[x^2 phi'^2], e = E[x phi phi'], and the fourth moments. */
typedef struct {
  double g, g1, g2, a, a1, a2, b, e, phi4, phi2dphi2, dphi4;
} es__moments;

typedef struct {
  const es_activation *act;
  double K;
  int which;
} es__fctx;

static double es__f(double x, void *c) {
  const es__fctx *f = c;
  double p = f->act->phi(x), d = f->act->dphi(x), z2 = x * x / f->K;
  double he2 = z2 - 1, he4 = z2 * z2 - 6 * z2 + 3;
  switch (f->which) {
    case 0: return p * p;
    case 1: return p * p * he2;
    case 2: return p * p * he4;
    case 3: return d * d;
    case 4: return d * d * he2;
    case 5: return d * d * he4;
    case 6: return x * x * d * d;
    case 7: return x * p * d;
    case 8: return p * p * p * p;
    case 9: return p * p * d * d;
    default: return d * d * d * d;
  }
}

static void es__moments_at(const es_activation *act, double K, es__moments *m) {
  double v[11];
  for (int i = 0; i < 11; i++) {
    es__fctx c = {act, K, i};
    v[i] = es_mft_expect(es__f, &c, K);
  }
  m->g = v[0];
  m->g1 = v[1] / (2 * K);
  m->g2 = v[2] / (4 * K * K);
  m->a = v[3];
  m->a1 = v[4] / (2 * K);
  m->a2 = v[5] / (4 * K * K);
  m->b = v[6];
  m->e = v[7];
  m->phi4 = v[8];
  m->phi2dphi2 = v[9];
  m->dphi4 = v[10];
}

es_status es_theory_layers(const es_mft_params *p, int T, es_theory_layer *out) {
  ES_CHECK(p->leak == 1.0, ES_ERR_INPUT,
           "the 1/N theory is implemented for leak = 1 (physics.md 5.1); leak = %g", p->leak);
  const double sw = p->sigma_w2, sw2 = sw * sw;
  es_theory_layer l = {sw * p->q0 + p->sigma_b2, 0, 0, sw, 0, 0, 0, 0};
  for (int t = 0; t < T; t++) {
    out[t] = l;
    if (t + 1 == T) break;
    if (!(l.K > 0) || !(l.K < 1e100) || !(l.R < 1e100)) { /* q* = 0 class or blow-up */
      for (int u = t + 1; u < T; u++)
        out[u] = (es_theory_layer){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
      break;
    }
    es__moments m;
    es__moments_at(p->act, l.K, &m);
    es_theory_layer n;
    n.K = p->sigma_b2 + p->noise + sw * m.g;
    n.K1 = sw * (m.g1 * l.K1 + 0.5 * m.g2 * l.Vzz);
    n.Vzz = sw2 * (m.phi4 - m.g * m.g + m.g1 * m.g1 * l.Vzz);
    n.R = sw * m.a * l.R;
    n.R1 = sw * (m.a * l.R1 + l.R * m.a1 * l.K1 + m.a1 * l.Vzu + 0.5 * l.R * m.a2 * l.Vzz +
                 l.W * (m.b / (l.K * l.K) - m.a / l.K));
    n.Vzu = sw2 * (l.R * (m.phi2dphi2 - m.g * m.a) + m.g1 * (m.a * l.Vzu + l.R * m.a1 * l.Vzz));
    n.Vuu = sw2 * (l.R * l.R * (3 * m.dphi4 - m.a * m.a) + m.a * m.a * l.Vuu +
                   2 * m.a * l.R * m.a1 * l.Vzu + l.R * l.R * m.a1 * m.a1 * l.Vzz);
    n.W = sw2 * (l.R * m.phi2dphi2 + (m.e / l.K) * (m.e / l.K) * l.W);
    l = n;
  }
  return ES_OK;
}

void es_theory_predict(const es_theory_layer *l, double N, es_theory_pred *o) {
  double vq = l->Vzz + 2 * l->K * l->K, vr = l->Vuu + 2 * l->R * l->R;
  o->q_mean = l->K + l->K1 / N;
  o->q_var = vq / N;
  o->logq_mean = log(l->K) + (l->K1 / l->K - vq / (2 * l->K * l->K)) / N;
  o->logq_var = vq / (N * l->K * l->K);
  o->logjac_mean = log(l->R) + (l->R1 / l->R - vr / (2 * l->R * l->R)) / N;
  o->logjac_var = vr / (N * l->R * l->R);
}
