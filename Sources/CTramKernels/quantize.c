// Activation quantizers: float rows → int8 blocks the tile kernels read. Portable C; each row is
// quantized on its own, so a row's blocks never depend on the batch around it.
#include "internal.h"
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
