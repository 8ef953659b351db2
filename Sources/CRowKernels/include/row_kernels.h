// The vector loops behind Kernels' `RowOps`: exp, softmax, SiLU gating, RMS norm. Each is
// compiled for AVX-512, AVX2 and baseline x86-64 and chosen when the program loads, with the
// same operations in the same order in every version, so results do not depend on the CPU.
#ifndef BIP_ROW_KERNELS_H
#define BIP_ROW_KERNELS_H

/// `values[i] = exp(values[i] - shift)` for i < count; returns their sum, accumulated in double.
double bip_exp_shifted(float *values, long count, float shift);

/// The largest of `count` values: -infinity when there are none; NaNs are passed over.
float bip_maximum(const float *values, long count);

/// Softmax over the first `visible` of `count` values; the others become 0 (a causal mask).
void bip_softmax_prefix(float *values, long visible, long count);

/// `out[i] = silu(gate[i]) * up[i]`, with silu(g) = g / (1 + exp(-g)).
void bip_swiglu(const float *gate, const float *up, float *out, long count);

/// Σ x[i]², each square and the sum in double.
double bip_sum_of_squares(const float *x, long count);

/// `out[i] = x[i] * s * weight[i]`, s = 1 / sqrt(mean(x²) + eps) (the mean in double).
void bip_rms_norm(const float *x, const float *weight, float eps, float *out, long count);

#endif
