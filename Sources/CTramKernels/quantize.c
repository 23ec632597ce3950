// Activation quantizers: float rows → int8 blocks the tile kernels read. Portable C; each row is
// quantized on its own, so a row's blocks never depend on the batch around it.
#include "internal.h"
#include <float.h>
#include <math.h>

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t ctram_q8a_row_bytes(int nblocks) {
    const size_t n = (size_t)nblocks;
    return round64(32 * n) + 3 * round64(4 * n) + 4 * round64(32 * n) + 512 * ((n + 15) / 16);
}

ctram_q8a_row ctram_q8a_view(const void *row, int nblocks) { return ctram_q8a_view_inline(row, nblocks); }

/// The per-block arrays from a block's quantized values (portable; the AVX2 path computes the
/// same integers and the same float operations).
static inline void q8a_block_tail(ctram_q8a_row v, int b, float db, int32_t total, const int32_t group[8]) {
    float *d = (float *)v.d, *s = (float *)v.s, *dv = (float *)v.dv, *sv = (float *)v.sv;
    int32_t *sum = (int32_t *)v.sum, *c8 = (int32_t *)v.c8, *c128 = (int32_t *)v.c128;
    d[b] = db;
    sum[b] = total;
    s[b] = db * (float)total;
    for (int l = 0; l < 8; l++) {
        dv[8 * b + l] = db;
        sv[8 * b + l] = s[b] * 0.125f;
        c8[8 * b + l] = -8 * group[l];
        c128[8 * b + l] = -128 * group[l];
    }
    // This block's lane in its group's 8 interleaved vectors (qx).
    int8_t *lane = (int8_t *)v.qx + 512 * (b / 16) + 4 * (b % 16);
    for (int k = 0; k < 8; k++) memcpy(lane + 64 * k, v.qs + 32 * b + 4 * k, 4);
}

void ctram_quantize_q8a(const float *x, void *row, int n) {
    const int nblocks = n / 32;
    ctram_q8a_row v = ctram_q8a_view(row, nblocks);
    int8_t *qs = (int8_t *)v.qs;
    memset((int8_t *)v.qx, 0, 512 * (size_t)((nblocks + 15) / 16));
    for (int b = 0; b < nblocks; b++, x += 32) {
        int32_t total = 0, group[8];
        float db;
#if defined(__AVX2__)
        // Same arithmetic as the portable loop below (max of |x|, one division, a multiply and a
        // round-to-nearest-even per value), eight at a time.
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 xv[4];
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            xv[k] = _mm256_loadu_ps(x + 8 * k);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, xv[k]));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        db = amax / 127.0f;
        const __m256 id = _mm256_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
        __m256i q[4];
        for (int k = 0; k < 4; k++)
            q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(xv[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        const __m256i bytes = _mm256_permutevar8x32_epi32(
            _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])), order);
        _mm256_storeu_si256((__m256i *)(qs + 32 * b), bytes);
        // Sums of each 4 values: two rounds of pairwise adds leave groups 0 2 4 6 | 1 3 5 7.
        const __m256i g = _mm256_permutevar8x32_epi32(
            _mm256_hadd_epi32(_mm256_hadd_epi32(q[0], q[1]), _mm256_hadd_epi32(q[2], q[3])), order);
        _mm256_storeu_si256((__m256i *)group, g);
        for (int l = 0; l < 8; l++) total += group[l];
#else
        float amax = 0.0f;
        for (int k = 0; k < 32; k++) amax = fmaxf(amax, fabsf(x[k]));
        db = amax / 127.0f;
        const float id = db != 0.0f ? 1.0f / db : 0.0f;
        for (int k = 0; k < 32; k++) {
            const int qk = (int)nearbyintf(x[k] * id);
            qs[32 * b + k] = (int8_t)qk;
            total += qk;
        }
        for (int l = 0; l < 8; l++)
            group[l] = qs[32 * b + 4 * l] + qs[32 * b + 4 * l + 1] + qs[32 * b + 4 * l + 2] + qs[32 * b + 4 * l + 3];
#endif
        q8a_block_tail(v, b, db, total, group);
    }
}

void ctram_quantize_q8k(const float *x, ctram_block_q8k *out, int n) {
    for (int b = 0; b < n / 256; b++, x += 256) {
        float amax = 0.0f;
        for (int k = 0; k < 256; k++) amax = fmaxf(amax, fabsf(x[k]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int k = 0; k < 256; k++) out[b].qs[k] = (int8_t)(int)nearbyintf(x[k] * id);
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int k = 0; k < 16; k++) sum += out[b].qs[16 * g + k];
            out[b].bsums[g] = (int16_t)sum;
        }
        out[b].d = d;
    }
}

// MARK: Weight quantization (load time)

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/// IEEE float → half, round to nearest even; overflow gives ±inf, NaN a quiet NaN. The same
/// result as ggml's GGML_FP32_TO_FP16 (F16C's vcvtps2ph, or its portable twin below, which is
/// Maratyszcza's FP16 algorithm). Portable code on every CPU, so the code tests run is the code
/// that ships; it runs once per 32 weights at load time.
static uint16_t f32_to_f16(float f) {
    const float scale_to_inf = 0x1.0p+112f, scale_to_zero = 0x1.0p-110f;
    float base = (fabsf(f) * scale_to_inf) * scale_to_zero;
    const uint32_t w = f32_bits(f), shl1_w = w + w, sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = f32_from_bits((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = f32_bits(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007C00u, mantissa_bits = bits & 0x00000FFFu;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : exp_bits + mantissa_bits));
}

int ctram_quantize_row_q8_0(const float *x, void *y, int64_t n) {
    uint8_t *out = (uint8_t *)y;
    int finite = 1; // a NaN fails the comparison as an infinity does
    for (int64_t b = 0; b < n / 32; b++, x += 32, out += 34) {
        // Eight running maxima so the loop vectorises (max is exact: any order gives ggml's amax).
        float lane[8] = {0};
        for (int k = 0; k < 32; k += 8) {
            for (int l = 0; l < 8; l++) {
                const float a = fabsf(x[k + l]);
                lane[l] = lane[l] > a ? lane[l] : a;
                finite &= a <= FLT_MAX;
            }
        }
        float amax = 0.0f;
        for (int l = 0; l < 8; l++) amax = amax > lane[l] ? amax : lane[l];
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = f32_to_f16(d);
        memcpy(out, &dh, 2);
        int8_t q[32]; // through a local array, so the rounding vectorises too
        for (int k = 0; k < 32; k++) q[k] = (int8_t)(int32_t)roundf(x[k] * id);
        memcpy(out + 2, q, 32);
    }
    return finite;
}
