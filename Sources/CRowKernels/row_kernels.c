// See row_kernels.h. Vectors are 16 floats (8 doubles) in every version: the AVX-512 version
// runs each as one register, the others as several. Products and sums are never fused (FMA),
// so every version rounds alike.
#pragma STDC FP_CONTRACT OFF

#include "row_kernels.h"
#include <math.h>

typedef float floats __attribute__((vector_size(64)));
typedef int ints __attribute__((vector_size(64)));
typedef double doubles __attribute__((vector_size(64)));

#define LANES 16
#define VERSIONS __attribute__((target_clones("avx512f", "avx2", "default")))
#define INLINE static inline __attribute__((always_inline))

// Helpers are macros, or take vectors by pointer: a 64-byte vector passed by value would need
// the AVX-512 calling convention in the versions without it.
#define LOAD(p) ({ floats loaded_; __builtin_memcpy(&loaded_, (p), sizeof loaded_); loaded_; })
#define STORE(p, v) ({ floats stored_ = (v); __builtin_memcpy((p), &stored_, sizeof stored_); })
#define SPLAT(x) ((floats){} + (x))
/// `when ? a : b`, lane by lane (`when` is a comparison's mask: all ones or all zeros).
#define CHOOSE(when, a, b) ((floats)(((ints)(a) & (when)) | ((ints)(b) & ~(when))))

/// exp(x) = 2^n · e^r with n = round(x·log2 e) and |r| ≤ ln2/2; e^r by a degree-6 polynomial
/// (Cephes' expf coefficients): relative error about 2e-7, within an ulp or two of libm. Below
/// -87.34 it gives 0 and above 88.72 +infinity, as Float's exp does.
INLINE void exp16(floats *value) {
    floats x = *value;
    // n = round(x·log2 e) by the 1.5·2^23 trick: adding it leaves n in the low mantissa bits.
    const float magic = 12582912.0f;
    floats shifted = x * 1.442695040888963f + magic;
    floats n = shifted - magic;
    // r = x - n·ln2, with ln2 split in two for exactness.
    floats r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    floats p = SPLAT(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    floats er = p * (r * r) + r + 1.0f;
    // 2^n from exponent bits, as 2^h · 2^(n-h) with h = n/2, so both stay normal for n in [-126, 128].
    // Inputs outside the range go through as garbage (wrapping integer arithmetic) and are replaced below.
    ints ni = (ints)((unsigned __attribute__((vector_size(64))))shifted - 0x4B400000u);
    ints h = ni >> 1;
    floats first = (floats)((unsigned __attribute__((vector_size(64))))(h + 127) << 23);
    floats second = (floats)((unsigned __attribute__((vector_size(64))))(ni - h + 127) << 23);
    floats result = er * first * second;
    result = CHOOSE(x > 88.72283f, SPLAT(INFINITY), result);
    *value = CHOOSE(x < -87.33654f, SPLAT(0.0f), result);
}

/// exp of one value, through the same polynomial (for loop tails).
INLINE float exp1(float x) {
    floats v = SPLAT(x);
    exp16(&v);
    return v[0];
}

INLINE double exp_shifted(float *values, long count, float shift) {
    floats lanes = {};
    double total = 0;
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        floats e = LOAD(values + i) - shift;
        exp16(&e);
        STORE(values + i, e);
        lanes += e;
        // Float lanes hold at most 1024 terms before they go into the double total.
        if ((i + LANES) % 1024 == 0) {
            for (int j = 0; j < LANES; j++) total += lanes[j];
            lanes = (floats){};
        }
    }
    for (int j = 0; j < LANES; j++) total += lanes[j];
    for (; i < count; i++) {
        values[i] = exp1(values[i] - shift);
        total += values[i];
    }
    return total;
}

INLINE float maximum(const float *values, long count) {
    floats lanes = SPLAT(-INFINITY);
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        floats v = LOAD(values + i);
        lanes = CHOOSE(v > lanes, v, lanes);
    }
    float result = -INFINITY;
    for (int j = 0; j < LANES; j++)
        if (lanes[j] > result) result = lanes[j];
    for (; i < count; i++)
        if (values[i] > result) result = values[i];
    return result;
}

INLINE double sum_of_squares(const float *x, long count) {
    doubles lanes = {};
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        float __attribute__((vector_size(32))) part;
        __builtin_memcpy(&part, x + i, sizeof part);
        doubles v = __builtin_convertvector(part, doubles);
        lanes += v * v;
    }
    double total = 0;
    for (int j = 0; j < 8; j++) total += lanes[j];
    for (; i < count; i++) total += (double)x[i] * (double)x[i];
    return total;
}

VERSIONS double bip_exp_shifted(float *values, long count, float shift) { return exp_shifted(values, count, shift); }

VERSIONS float bip_maximum(const float *values, long count) { return maximum(values, count); }

VERSIONS double bip_sum_of_squares(const float *x, long count) { return sum_of_squares(x, count); }

VERSIONS void bip_softmax_prefix(float *values, long visible, long count) {
    float inverse = (float)(1 / exp_shifted(values, visible, maximum(values, visible)));
    long i = 0;
    for (; i + LANES <= visible; i += LANES) STORE(values + i, LOAD(values + i) * inverse);
    for (; i < visible; i++) values[i] *= inverse;
    for (i = visible; i < count; i++) values[i] = 0;
}

VERSIONS void bip_swiglu(const float *gate, const float *up, float *out, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        floats g = LOAD(gate + i), e = -g;
        exp16(&e);
        STORE(out + i, g / (1.0f + e) * LOAD(up + i));
    }
    for (; i < count; i++) out[i] = gate[i] / (1.0f + exp1(-gate[i])) * up[i];
}

VERSIONS void bip_rms_norm(const float *x, const float *weight, float eps, float *out, long count) {
    float scale = (float)(1 / sqrt(sum_of_squares(x, count) / (double)count + (double)eps));
    long i = 0;
    for (; i + LANES <= count; i += LANES) STORE(out + i, LOAD(x + i) * scale * LOAD(weight + i));
    for (; i < count; i++) out[i] = x[i] * scale * weight[i];
}
