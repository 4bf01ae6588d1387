// rnnlab's CPU inference kernels: one layer, one direction of an LSTM or a GRU (cuDNN's reset-after form),
// with PyTorch's parameter layout, so that the same weights run here, on oneDNN/cuDNN and on the equations.
//
// Why: at small batches a PyTorch RNN step is a handful of operator calls (GEMM, chunk, sigmoid, tanh, mul,
// add ...), each with its dispatch and allocation cost; the arithmetic of a 50-token, hidden-200 sentence
// is a few microseconds per step. Here the input projection of every step is one GEMM, and each step is one
// GEMM into a preallocated buffer plus one loop that applies all the gate equations in place.
//
//   LSTM (gates i|f|g|o):  i,f,o = σ(·), g = tanh(·);  c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t)
//   GRU  (gates r|z|n):    r,z = σ(x W_ir,iz + b + h W_hr,hz + b);  n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))
//                          h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
#include <torch/extension.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace at::native {
// result = beta·result + alpha·mat1·mat2 on oneDNN's matmul (ATen/native/mkldnn/Matmul.h, exported by libtorch_cpu
// but not among the installed headers). mat1/mat2 may be transposed views; result must be contiguous.
TORCH_API void mkldnn_matmul(const Tensor& mat1, const Tensor& mat2, const Tensor& result, float beta, float alpha);
}  // namespace at::native

namespace {

// out = beta·out + a·b. MKL's sgemm (behind at::mm) runs a recurrent step's small products at about half oneDNN's
// speed on AMD CPUs (measured (64×256)·(256×1024): 185 vs 370 GFLOP/s), so the products go to oneDNN's matmul when
// PyTorch was built with it. With beta = 0 `out` may hold anything.
bool onednn_enabled() {
  const char* off = std::getenv("RNNLAB_ONEDNN");
  return at::hasMKLDNN() && !(off != nullptr && std::string(off) == "0");
}

bool g_onednn = onednn_enabled();  // RNNLAB_ONEDNN=0 turns it off; use_onednn() switches it at run time
constexpr int64_t kOneDNNRows = 16;  // below, a single row or a few: oneDNN's per-call cost outweighs its speed

void gemm_into(const at::Tensor& out, const at::Tensor& a, const at::Tensor& b, float beta) {
  if (g_onednn && a.size(0) >= kOneDNNRows && out.is_contiguous()) {
    at::native::mkldnn_matmul(a, b, out, beta, 1.0f);
  } else if (beta == 0.0f) {
    at::mm_out(const_cast<at::Tensor&>(out), a, b);
  } else {
    at::addmm_out(const_cast<at::Tensor&>(out), out, a, b, beta, 1.0f);
  }
}

// a·b into a new (a.size(0), b.size(1)) tensor
at::Tensor gemm(const at::Tensor& a, const at::Tensor& b) {
  auto out = at::empty({a.size(0), b.size(1)}, a.options().memory_format(at::MemoryFormat::Contiguous));
  gemm_into(out, a, b, 0.0f);
  return out;
}

// x (B, T, I) -> (B, T, G) = x·W_ih^T + bias, every step's input projection in one product
at::Tensor project(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& bias) {
  const int64_t B = x.size(0), T = x.size(1), G = w_ih.size(0);
  auto gx = at::empty({B * T, G}, x.options());  // not bias.expand().contiguous(): with one row that is bias itself
  gx.copy_(bias.expand({B * T, G}));
  gemm_into(gx, x.reshape({B * T, x.size(2)}), w_ih.t(), 1.0f);
  return gx.view({B, T, G});
}

// exp by 2^(x·log2 e) = 2^n · 2^f (Cephes' exp2f polynomial; measured: relative error 2e-6, sigmoid and tanh within
// 2e-7), branch-free so that the gate loops below vectorise (libm's expf/tanhf calls do not).
inline float exp_approx(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float t = x * 1.44269504088896341f + 0.5f;  // x·log2(e), rounded below to n
  int32_t n = static_cast<int32_t>(t);
  n -= (t < static_cast<float>(n));  // floor for negative t
  const float f = t - 0.5f - static_cast<float>(n);
  float p = 1.535336188319500e-4f;
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  p = p * f + 1.0f;
  return p * __builtin_bit_cast(float, (n + 127) << 23);  // 2^f · 2^n
}

inline float sigmoid(float v) { return 1.0f / (1.0f + exp_approx(-v)); }
inline float tanh_approx(float v) { return 2.0f / (1.0f + exp_approx(-2.0f * v)) - 1.0f; }

void check(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh, int64_t gates) {
  TORCH_CHECK(x.dim() == 3 && x.scalar_type() == at::kFloat && x.device().is_cpu(),
              "rnnlab kernel: x must be a float32 CPU tensor (B, T, I)");
  TORCH_CHECK(w_ih.size(0) == gates * w_hh.size(1) && w_hh.size(0) == w_ih.size(0),
              "rnnlab kernel: weight shapes do not match the cell");
}

// out (B, G) = h (B, H) · W^T where wt = W^T is (H, G) contiguous: row by row, each row an axpy over G that
// vectorises; for small batches this beats a BLAS call's fixed cost.
inline void small_gemm(const float* __restrict__ h, const float* __restrict__ wt, float* __restrict__ out,
                       int64_t B, int64_t H, int64_t G) {
  for (int64_t b = 0; b < B; ++b) {
    float* __restrict__ o = out + b * G;
    for (int64_t j = 0; j < G; ++j) o[j] = 0.0f;
    const float* hb = h + b * H;
    for (int64_t k = 0; k < H; ++k) {
      const float v = hb[k];
      const float* __restrict__ w = wt + k * G;
      for (int64_t j = 0; j < G; ++j) o[j] += v * w[j];
    }
  }
}

constexpr int64_t kSmallBatch = 4;  // up to here the hand-written product, above it BLAS

// gates (B, G) = h_{t-1} W_hh^T (+ bias when given)
void recurrent_product(at::Tensor& gates, const at::Tensor& h, const at::Tensor& w_hh_t, const at::Tensor& wt,
                       const at::Tensor* bias) {
  const int64_t B = h.size(0), H = h.size(1), G = gates.size(1);
  if (B <= kSmallBatch) {
    small_gemm(h.data_ptr<float>(), wt.data_ptr<float>(), gates.data_ptr<float>(), B, H, G);
    if (bias != nullptr) {
      const float* bp = bias->data_ptr<float>();
      float* gp = gates.data_ptr<float>();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < G; ++j) gp[b * G + j] += bp[j];
    }
  } else if (bias != nullptr) {
    gates.copy_(bias->expand({B, G}));
    gemm_into(gates, h, w_hh_t, 1.0f);
  } else {
    gemm_into(gates, h, w_hh_t, 0.0f);
  }
}

// one row of the LSTM gate equations; g: h_{t-1} W_hh^T, gx: x_t W_ih^T + b (both i|f|g|o), in place on h, c
void lstm_row(const float* __restrict__ g, const float* __restrict__ gx, float* __restrict__ h,
              float* __restrict__ c, float* __restrict__ y, int64_t H) {
  for (int64_t k = 0; k < H; ++k) {
    const float i = sigmoid(g[k] + gx[k]);
    const float f = sigmoid(g[H + k] + gx[H + k]);
    const float gg = tanh_approx(g[2 * H + k] + gx[2 * H + k]);
    const float o = sigmoid(g[3 * H + k] + gx[3 * H + k]);
    const float cn = f * c[k] + i * gg;  // c_t = f ⊙ c_{t-1} + i ⊙ g
    const float hn = o * tanh_approx(cn);  // h_t = o ⊙ tanh(c_t)
    c[k] = cn;
    h[k] = hn;
    y[k] = hn;
  }
}

// one row of the GRU gate equations; g: h_{t-1} W_hh^T + b_hh, gx: x_t W_ih^T + b_ih (both r|z|n), in place on h
void gru_row(const float* __restrict__ g, const float* __restrict__ gx, float* __restrict__ h,
             float* __restrict__ y, int64_t H) {
  for (int64_t k = 0; k < H; ++k) {
    const float r = sigmoid(gx[k] + g[k]);
    const float z = sigmoid(gx[H + k] + g[H + k]);
    const float n = tanh_approx(gx[2 * H + k] + r * g[2 * H + k]);  // r after the recurrent product
    const float hn = (1.0f - z) * n + z * h[k];  // h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
    h[k] = hn;
    y[k] = hn;
  }
}

}  // namespace

// --- GRU training: the forward pass keeps r, z, n and h_{t-1} W_hn^T + b_hn; the backward pass goes through time
// with one GEMM per step (dh_{t-1} += dgh_t W_hh) and leaves the weight gradients to three GEMMs after the loop.

namespace {

void gru_row_saving(const float* __restrict__ g, const float* __restrict__ gx, float* __restrict__ h,
                    float* __restrict__ y, float* __restrict__ rs, float* __restrict__ zs, float* __restrict__ ns,
                    float* __restrict__ ghn, int64_t H) {
  for (int64_t k = 0; k < H; ++k) {
    const float r = sigmoid(gx[k] + g[k]);
    const float z = sigmoid(gx[H + k] + g[H + k]);
    const float n = tanh_approx(gx[2 * H + k] + r * g[2 * H + k]);
    const float hn = (1.0f - z) * n + z * h[k];
    rs[k] = r;
    zs[k] = z;
    ns[k] = n;
    ghn[k] = g[2 * H + k];
    h[k] = hn;
    y[k] = hn;
  }
}

// dh (in: dL/dh_t, out: the part of dL/dh_{t-1} that does not go through W_hh); dgx, dgh: the gate gradients
void gru_row_backward(float* __restrict__ dh, const float* __restrict__ h_prev, const float* __restrict__ r,
                      const float* __restrict__ z, const float* __restrict__ n, const float* __restrict__ ghn,
                      float* __restrict__ dgx, float* __restrict__ dgh, int64_t H) {
  for (int64_t k = 0; k < H; ++k) {
    const float d = dh[k];
    const float dn = d * (1.0f - z[k]);
    const float dz = d * (h_prev[k] - n[k]);
    const float dan = dn * (1.0f - n[k] * n[k]);
    const float daz = dz * z[k] * (1.0f - z[k]);
    const float dar = dan * ghn[k] * r[k] * (1.0f - r[k]);
    dgx[k] = dar;
    dgx[H + k] = daz;
    dgx[2 * H + k] = dan;
    dgh[k] = dar;
    dgh[H + k] = daz;
    dgh[2 * H + k] = dan * r[k];
    dh[k] = d * z[k];
  }
}

}  // namespace

// -> {y, h_T} and, when `save` (training), r, z, n and h_{t-1} W_hn^T + b_hn for the backward pass
std::vector<at::Tensor> gru_run(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                                const at::Tensor& b_ih, const at::Tensor& b_hh, const at::Tensor& h0, bool save) {
  check(x, w_ih, w_hh, 3);
  const int64_t B = x.size(0), T = x.size(1), H = w_hh.size(1);
  at::NoGradGuard no_grad;
  auto gx = project(x, w_ih, b_ih);
  auto w_hh_t = w_hh.t();
  auto wt = B <= kSmallBatch ? w_hh_t.contiguous() : w_hh_t;
  auto y = at::empty({B, T, H}, x.options());
  auto kept = save ? at::empty({4, B, T, H}, x.options()) : at::empty({0}, x.options());  // r, z, n, ghn
  auto h = h0.contiguous().clone();
  auto gh = at::empty({B, 3 * H}, x.options());
  const auto bias = b_hh.contiguous();
  float *ghp = gh.data_ptr<float>(), *hp = h.data_ptr<float>(), *yp = y.data_ptr<float>();
  float* kp = kept.data_ptr<float>();
  const int64_t plane = B * T * H;
  const float* gxp = gx.data_ptr<float>();
  for (int64_t t = 0; t < T; ++t) {
    recurrent_product(gh, h, w_hh_t, wt, &bias);  // (B, 3H) = h_{t-1} W_hh^T + b_hh
    at::parallel_for(0, B, std::max<int64_t>(1, 32768 / (3 * H)), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const int64_t o = (b * T + t) * H;
        const float* g = ghp + b * 3 * H;
        const float* gxr = gxp + (b * T + t) * 3 * H;
        if (save)
          gru_row_saving(g, gxr, hp + b * H, yp + o, kp + o, kp + plane + o, kp + 2 * plane + o,
                         kp + 3 * plane + o, H);
        else
          gru_row(g, gxr, hp + b * H, yp + o, H);
      }
    });
  }
  if (!save) return {y, h};
  return {y, h, kept[0], kept[1], kept[2], kept[3]};
}

std::vector<at::Tensor> gru_forward(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                                    const at::Tensor& b_ih, const at::Tensor& b_hh, const at::Tensor& h0) {
  return gru_run(x, w_ih, w_hh, b_ih, b_hh, h0, false);
}

std::vector<at::Tensor> gru_forward_train(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                                          const at::Tensor& b_ih, const at::Tensor& b_hh, const at::Tensor& h0) {
  return gru_run(x, w_ih, w_hh, b_ih, b_hh, h0, true);
}

// dy (B, T, H), dh_T (B, H) -> {dx, dw_ih, dw_hh, db_ih, db_hh, dh0}
std::vector<at::Tensor> gru_backward(const at::Tensor& dy_in, const at::Tensor& dhT, const at::Tensor& x,
                                     const at::Tensor& w_ih, const at::Tensor& w_hh, const at::Tensor& h0,
                                     const at::Tensor& y, const at::Tensor& r, const at::Tensor& z,
                                     const at::Tensor& n, const at::Tensor& ghn) {
  const int64_t B = x.size(0), T = x.size(1), H = w_hh.size(1);
  at::NoGradGuard no_grad;
  auto dy = dy_in.contiguous();
  auto h_prev = at::cat({h0.unsqueeze(1), y.narrow(1, 0, T - 1)}, 1).contiguous();  // (B, T, H)
  auto dgx = at::empty({B, T, 3 * H}, x.options());
  auto dgh = at::empty({T, B, 3 * H}, x.options());  // time-major: each step's rows are one contiguous block
  auto dh = dhT.contiguous().clone();
  float *dhp = dh.data_ptr<float>(), *dgxp = dgx.data_ptr<float>(), *dghp = dgh.data_ptr<float>();
  const float *dyp = dy.data_ptr<float>(), *hpp = h_prev.data_ptr<float>(), *rp = r.data_ptr<float>();
  const float *zp = z.data_ptr<float>(), *np_ = n.data_ptr<float>(), *gnp = ghn.data_ptr<float>();
  for (int64_t t = T - 1; t >= 0; --t) {
    at::parallel_for(0, B, std::max<int64_t>(1, 32768 / (3 * H)), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const int64_t o = (b * T + t) * H;
        float* d = dhp + b * H;
        for (int64_t k = 0; k < H; ++k) d[k] += dyp[o + k];
        gru_row_backward(d, hpp + o, rp + o, zp + o, np_ + o, gnp + o, dgxp + (b * T + t) * 3 * H,
                         dghp + (t * B + b) * 3 * H, H);
      }
    });
    gemm_into(dh, dgh[t], w_hh, 1.0f);  // dL/dh_{t-1} = dh ⊙ z (kept in dh above) + dgh_t W_hh
  }
  auto dgx2 = dgx.view({B * T, 3 * H});
  auto dgh2 = dgh.view({T * B, 3 * H});
  auto dx = gemm(dgx2, w_ih).view({B, T, x.size(2)});
  auto dw_ih = gemm(dgx2.t(), x.reshape({B * T, x.size(2)}));
  auto dw_hh = gemm(dgh2.t(), h_prev.transpose(0, 1).reshape({T * B, H}));
  return {dx, dw_ih, dw_hh, dgx2.sum(0), dgh2.sum(0), dh};
}

// --- LSTM training, the same way: the forward pass keeps the gates i, f, g, o and the cell states; the backward
// pass goes through time with one GEMM per step and leaves the weight gradients to two GEMMs after the loop.

namespace {

void lstm_row_saving(const float* __restrict__ g, const float* __restrict__ gx, float* __restrict__ h,
                     float* __restrict__ c, float* __restrict__ y, float* __restrict__ gates, float* __restrict__ cs,
                     int64_t H) {
  for (int64_t k = 0; k < H; ++k) {
    const float i = sigmoid(g[k] + gx[k]);
    const float f = sigmoid(g[H + k] + gx[H + k]);
    const float gg = tanh_approx(g[2 * H + k] + gx[2 * H + k]);
    const float o = sigmoid(g[3 * H + k] + gx[3 * H + k]);
    const float cn = f * c[k] + i * gg;
    const float hn = o * tanh_approx(cn);
    gates[k] = i;
    gates[H + k] = f;
    gates[2 * H + k] = gg;
    gates[3 * H + k] = o;
    cs[k] = cn;
    c[k] = cn;
    h[k] = hn;
    y[k] = hn;
  }
}

// dh: dL/dh_t, dc (in: dL/dc_t from step t+1, out: dL/dc_{t-1}); da: the gate pre-activation gradients i|f|g|o
void lstm_row_backward(const float* __restrict__ dh, float* __restrict__ dc, const float* __restrict__ gates,
                       const float* __restrict__ c, const float* __restrict__ c_prev, float* __restrict__ da,
                       int64_t H) {
  for (int64_t k = 0; k < H; ++k) {
    const float i = gates[k], f = gates[H + k], gg = gates[2 * H + k], o = gates[3 * H + k];
    const float tc = tanh_approx(c[k]);
    const float dct = dc[k] + dh[k] * o * (1.0f - tc * tc);  // through h_t = o ⊙ tanh(c_t)
    da[k] = dct * gg * i * (1.0f - i);
    da[H + k] = dct * c_prev[k] * f * (1.0f - f);
    da[2 * H + k] = dct * i * (1.0f - gg * gg);
    da[3 * H + k] = dh[k] * tc * o * (1.0f - o);
    dc[k] = dct * f;  // c_t = f ⊙ c_{t-1} + i ⊙ g
  }
}

}  // namespace

// x (B, T, I), h0, c0 (B, H) -> {y (B, T, H), h_T, c_T} and, when `save` (training), every step's i|f|g|o and
// c_t, time-major: gates (T, B, 4H), c (T, B, H), for the backward pass
std::vector<at::Tensor> lstm_run(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                                 const at::Tensor& b_ih, const at::Tensor& b_hh, const at::Tensor& h0,
                                 const at::Tensor& c0, bool save) {
  check(x, w_ih, w_hh, 4);
  const int64_t B = x.size(0), T = x.size(1), H = w_hh.size(1);
  at::NoGradGuard no_grad;
  auto gx = project(x, w_ih, b_ih + b_hh);  // every step's input projection, both biases folded in: (B, T, 4H)
  auto w_hh_t = w_hh.t();
  auto wt = B <= kSmallBatch ? w_hh_t.contiguous() : w_hh_t;
  auto y = at::empty({B, T, H}, x.options());
  auto gates_kept = save ? at::empty({T, B, 4 * H}, x.options()) : at::empty({0}, x.options());
  auto c_kept = save ? at::empty({T, B, H}, x.options()) : at::empty({0}, x.options());
  auto h = h0.contiguous().clone();
  auto c = c0.contiguous().clone();
  auto gates = at::empty({B, 4 * H}, x.options());
  float *gp = gates.data_ptr<float>(), *hp = h.data_ptr<float>(), *cp = c.data_ptr<float>();
  float *yp = y.data_ptr<float>(), *kp = gates_kept.data_ptr<float>(), *ckp = c_kept.data_ptr<float>();
  const float* gxp = gx.data_ptr<float>();
  for (int64_t t = 0; t < T; ++t) {
    recurrent_product(gates, h, w_hh_t, wt, nullptr);  // (B, 4H) = h_{t-1} W_hh^T
    at::parallel_for(0, B, std::max<int64_t>(1, 32768 / (4 * H)), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const float* g = gp + b * 4 * H;
        const float* gxr = gxp + (b * T + t) * 4 * H;
        float* yr = yp + (b * T + t) * H;
        if (save)
          lstm_row_saving(g, gxr, hp + b * H, cp + b * H, yr, kp + (t * B + b) * 4 * H, ckp + (t * B + b) * H, H);
        else
          lstm_row(g, gxr, hp + b * H, cp + b * H, yr, H);
      }
    });
  }
  if (!save) return {y, h, c};
  return {y, h, c, gates_kept, c_kept};
}

// dy (B, T, H) -> {dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0}
std::vector<at::Tensor> lstm_backward(const at::Tensor& dy_in, const at::Tensor& x, const at::Tensor& w_ih,
                                      const at::Tensor& w_hh, const at::Tensor& h0, const at::Tensor& c0,
                                      const at::Tensor& y, const at::Tensor& gates, const at::Tensor& cs) {
  const int64_t B = x.size(0), T = x.size(1), H = w_hh.size(1);
  at::NoGradGuard no_grad;
  auto dy = dy_in.contiguous();
  auto c0c = c0.contiguous();
  auto da = at::empty({T, B, 4 * H}, x.options());  // time-major, like the saved gates
  auto dh = at::zeros({B, H}, x.options());  // the part of dL/dh_t that comes from step t+1
  auto dc = at::zeros({B, H}, x.options());
  float *dap = da.data_ptr<float>(), *dhp = dh.data_ptr<float>(), *dcp = dc.data_ptr<float>();
  const float *dyp = dy.data_ptr<float>(), *gp = gates.data_ptr<float>(), *csp = cs.data_ptr<float>();
  const float* c0p = c0c.data_ptr<float>();
  for (int64_t t = T - 1; t >= 0; --t) {
    at::parallel_for(0, B, std::max<int64_t>(1, 32768 / (4 * H)), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        float* d = dhp + b * H;
        const float* dyr = dyp + (b * T + t) * H;
        for (int64_t k = 0; k < H; ++k) d[k] += dyr[k];
        const float* c_prev = t > 0 ? csp + ((t - 1) * B + b) * H : c0p + b * H;
        lstm_row_backward(d, dcp + b * H, gp + (t * B + b) * 4 * H, csp + (t * B + b) * H, c_prev,
                          dap + (t * B + b) * 4 * H, H);
      }
    });
    gemm_into(dh, da[t], w_hh, 0.0f);  // dL/dh_{t-1} (before adding dy_{t-1}) = da_t W_hh
  }
  auto da2 = da.view({T * B, 4 * H});
  auto x_tm = x.transpose(0, 1).reshape({T * B, x.size(2)});  // time-major rows, as da's
  auto h_prev = at::cat({h0.unsqueeze(0), y.narrow(1, 0, T - 1).transpose(0, 1)}, 0).reshape({T * B, H});
  auto dx = gemm(da2, w_ih).view({T, B, x.size(2)}).transpose(0, 1);
  auto dw_ih = gemm(da2.t(), x_tm);
  auto dw_hh = gemm(da2.t(), h_prev);
  auto db = da2.sum(0);
  return {dx, dw_ih, dw_hh, db, db.clone(), dh, dc};
}

// fn(job) for every job at once, one thread each (a bidirectional layer's two directions side by side); inside,
// each job's per-step work runs on its own thread.
template <typename Result, typename Fn>
std::vector<Result> each_job(const std::vector<std::vector<at::Tensor>>& jobs, Fn fn) {
  std::vector<Result> out(jobs.size());
  at::parallel_for(0, static_cast<int64_t>(jobs.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t d = begin; d < end; ++d) out[d] = fn(jobs[d]);
  });
  return out;
}

// jobs[d] = {x, w_ih, w_hh, b_ih, b_hh, h0[, c0]} -> each job's y (inference)
std::vector<at::Tensor> run_directions(const std::vector<std::vector<at::Tensor>>& jobs, bool lstm) {
  return each_job<at::Tensor>(jobs, [lstm](const std::vector<at::Tensor>& j) {
    return lstm ? lstm_run(j[0], j[1], j[2], j[3], j[4], j[5], j[6], false)[0]
                : gru_forward(j[0], j[1], j[2], j[3], j[4], j[5])[0];
  });
}

// jobs[d] = {x, w_ih, w_hh, b_ih, b_hh, h0} -> gru_forward_train of each
std::vector<std::vector<at::Tensor>> gru_forward_train_many(const std::vector<std::vector<at::Tensor>>& jobs) {
  return each_job<std::vector<at::Tensor>>(jobs, [](const std::vector<at::Tensor>& j) {
    return gru_forward_train(j[0], j[1], j[2], j[3], j[4], j[5]);
  });
}

// jobs[d] = {dy, dh_T, x, w_ih, w_hh, h0, y, r, z, n, ghn} -> gru_backward of each
std::vector<std::vector<at::Tensor>> gru_backward_many(const std::vector<std::vector<at::Tensor>>& jobs) {
  return each_job<std::vector<at::Tensor>>(jobs, [](const std::vector<at::Tensor>& j) {
    return gru_backward(j[0], j[1], j[2], j[3], j[4], j[5], j[6], j[7], j[8], j[9], j[10]);
  });
}

// jobs[d] = {x, w_ih, w_hh, b_ih, b_hh, h0, c0} -> lstm_run (saving) of each
std::vector<std::vector<at::Tensor>> lstm_forward_train_many(const std::vector<std::vector<at::Tensor>>& jobs) {
  return each_job<std::vector<at::Tensor>>(jobs, [](const std::vector<at::Tensor>& j) {
    return lstm_run(j[0], j[1], j[2], j[3], j[4], j[5], j[6], true);
  });
}

// jobs[d] = {dy, x, w_ih, w_hh, h0, c0, y, gates, c} -> lstm_backward of each
std::vector<std::vector<at::Tensor>> lstm_backward_many(const std::vector<std::vector<at::Tensor>>& jobs) {
  return each_job<std::vector<at::Tensor>>(jobs, [](const std::vector<at::Tensor>& j) {
    return lstm_backward(j[0], j[1], j[2], j[3], j[4], j[5], j[6], j[7], j[8]);
  });
}

// switch the products between oneDNN (true) and at::mm (false); returns the previous setting
bool use_onednn(bool on) {
  const bool previous = g_onednn;
  g_onednn = on && at::hasMKLDNN();
  return previous;
}

// a·b for 2-D float32 CPU tensors, either possibly a transposed view (oneDNN reads those in place; Python's
// torch.ops.mkldnn._linear_pointwise would need them copied): the equation path's weight gradients
at::Tensor matmul(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.scalar_type() == at::kFloat && b.scalar_type() == at::kFloat &&
                  a.device().is_cpu() && b.device().is_cpu(),
              "rnnlab kernel matmul: 2-D float32 CPU tensors");
  at::NoGradGuard no_grad;
  return gemm(a, b);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("matmul", &matmul, "a·b (2-D float32 CPU, transposed views read in place) on oneDNN from 16 rows");
  m.def("use_onednn", &use_onednn, "products on oneDNN's matmul (true) or at::mm (false); returns the previous");
  m.def("lstm_forward_train_many", &lstm_forward_train_many, "the LSTM's training forward pass of several directions in parallel");
  m.def("lstm_backward_many", &lstm_backward_many, "lstm_backward of several directions in parallel");
  m.def("gru_forward_train_many", &gru_forward_train_many, "gru_forward_train of several directions in parallel");
  m.def("gru_backward_many", &gru_backward_many, "gru_backward of several directions in parallel");
  m.def("run_directions", &run_directions, "layer-directions in parallel, one thread each");
}
