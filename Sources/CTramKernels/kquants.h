#ifndef CTRAM_KQUANTS_H
#define CTRAM_KQUANTS_H
// Shared by the K-quant tiles (kquants.c: Q4_K, Q6_K; kquants_low.c: Q2_K, Q3_K, Q5_K): the scalar
// tile shape and the SIMD pair-lane machinery. Per super-block the integer part of each
// (row, activation) pair is exact; its float update runs over "pair lanes" p = i·NA + j, 8 to a
// __m256, doing per lane exactly the scalar update, so every variant equals the scalar bit for bit.
#include "internal.h"
#include <math.h>

#define A_BLOCK(j, b) ((const ctram_block_q8k *)((const char *)a + (size_t)(j) * a_stride) + (b))

/// The scalar tile of a K-quant type: UPDATE(acc, weight block, activation block) per super-block.
#define K_TILE(NAME, WTYPE, UPDATE)                                                                \
    CTRAM_INLINE void NAME##_tile(const int NW, const int NA, CTRAM_TILE_ARGS) {                   \
        float acc[4][4] = {{0}};                                                                   \
        for (int b = 0; b < nblocks; b++)                                                          \
            for (int i = 0; i < NW; i++) {                                                         \
                const WTYPE *wb = (const WTYPE *)((const char *)w + (size_t)i * w_stride) + b;     \
                for (int j = 0; j < NA; j++) UPDATE(acc[i][j], wb, A_BLOCK(j, b));                 \
            }                                                                                      \
        for (int i = 0; i < NW; i++)                                                               \
            for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = acc[i][j];                  \
    }                                                                                              \
    void ctram_tile_##NAME##_scalar(int nw, int na, CTRAM_TILE_ARGS) {                             \
        CTRAM_TILE_SWITCH(NAME##_TILE)                                                             \
    }

#if CTRAM_X86
/// The exported tile of a SIMD variant, NAME##_TILE(NW, NA) expanding to its body.
#define K_ENTRY(NAME, TARGET)                                                                      \
    TARGET void ctram_tile_##NAME(int nw, int na, CTRAM_TILE_ARGS) {                               \
        CTRAM_TILE_SWITCH(NAME##_TILE)                                                             \
    }

#define W_BLOCK(WTYPE, i, b) ((const WTYPE *)((const char *)w + (size_t)(i) * w_stride) + (b))

/// Chunk c of pair lanes: the int vectors v[i][j] (ZERO past the last pair).
#define K_PAIR_INTS(out, v, c, ZERO)                                                               \
    for (int l = 0; l < 8; l++) {                                                                  \
        const int p = 8 * (c) + l;                                                                 \
        out[l] = p < NW * NA ? v[p / NA][p % NA] : ZERO;                                           \
    }

/// Chunk c of pair lanes holding a per-row value r[i] (FROM_ROW) or a per-activation value r[j].
CTRAM_AVX2 CTRAM_INLINE __m256 k_pair_lanes(const int NW, const int NA, int c, const float r[4], int from_row) {
    float v[8];
    for (int l = 0; l < 8; l++) {
        const int p = 8 * c + l;
        v[l] = p < NW * NA ? r[from_row ? p / NA : p % NA] : 0.0f;
    }
    return _mm256_setr_ps(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

/// y[j·y_stride + i] = pair lane i·NA + j.
CTRAM_AVX2 CTRAM_INLINE void k_store(const int NW, const int NA, const __m256 acc[2], float *y, size_t y_stride) {
    float out[16];
    _mm256_storeu_ps(out, acc[0]);
    _mm256_storeu_ps(out + 8, acc[1]);
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = out[i * NA + j];
}

/// Q4_K: acc += d·sumi − dmin·mins per pair lane of chunk c, as q4_K_block computes it
/// (d = wd·ad, dmin = wm·ad; fmsub = fmaf(d, sumi, −(dmin·mins))).
CTRAM_AVX2 CTRAM_INLINE void q4_K_update(const int NW, const int NA, int c, __m256i sumi, __m256i mins, const float wd[4],
                                         const float wm[4], const float ad[4], __m256 acc[2]) {
    const __m256 a = k_pair_lanes(NW, NA, c, ad, 0);
    const __m256 d = _mm256_mul_ps(k_pair_lanes(NW, NA, c, wd, 1), a);
    const __m256 dmin = _mm256_mul_ps(k_pair_lanes(NW, NA, c, wm, 1), a);
    acc[c] = _mm256_add_ps(acc[c], _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(sumi), _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(mins))));
}

/// Q6_K: acc = fma(wd·ad, sumi, acc) per pair lane of chunk c.
CTRAM_AVX2 CTRAM_INLINE void q6_K_update(const int NW, const int NA, int c, __m256i sumi, const float wd[4], const float ad[4],
                                         __m256 acc[2]) {
    const __m256 d = _mm256_mul_ps(k_pair_lanes(NW, NA, c, wd, 1), k_pair_lanes(NW, NA, c, ad, 0));
    acc[c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc[c]);
}

/// The 12 Q4_K scale bytes → sc[0..7] in bytes 0–7, m[0..7] in bytes 8–15 (ctram_scale_min_k4
/// for every j at once, on 32-bit words: A = bytes 0–3, B = 4–7, C = 8–11).
///   sc[0..3] = A & 0x3F…   sc[4..7] = (C & 0x0F…) | (A >> 6 & 0x03…) << 4
///   m[0..3]  = B & 0x3F…   m[4..7]  = (C >> 4 & 0x0F…) | (B >> 6 & 0x03…) << 4
/// `s` is read as 16 bytes (the 4 past the scales are the block's first qs).
CTRAM_AVX2 CTRAM_INLINE __m128i q4_K_scales_mins(const uint8_t *s) {
    const __m128i v = _mm_loadu_si128((const __m128i *)s);                                    // A B C ·
    const __m128i acbc = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)), aabb = _mm_unpacklo_epi32(v, v);
    const __m128i low = _mm_and_si128(_mm_srlv_epi32(acbc, _mm_setr_epi32(0, 0, 0, 4)),
                                      _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
    const __m128i top = _mm_and_si128(_mm_srli_epi32(aabb, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    return _mm_or_si128(low, top);
}

/// Per weight row and block: sc16 = scales as i16 sc[0..7]; mn = mins as i16 m[0] m[0] m[1] m[1]
/// … m[7] m[7], so madd with bsums gives m[k]·(bsums[2k] + bsums[2k + 1]) in lane k.
#define Q4_K_ROW_SETUP(i)                                                                          \
    const ctram_block_q4_K *wb = W_BLOCK(ctram_block_q4_K, i, b);                                  \
    const __m128i sm = q4_K_scales_mins(wb->scales);                                               \
    const __m128i sc16 = _mm_cvtepu8_epi16(sm);                                                    \
    mn[i] = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));                                       \
    wd[i] = ctram_load_f16(&wb->d);                                                                \
    wm[i] = ctram_load_f16(&wb->dmin);

/// The mins term of every pair: madd of the row's duplicated mins with the activation's bsums.
#define Q4_K_MINS(M)                                                                               \
    for (int j = 0; j < NA; j++) {                                                                 \
        const ctram_block_q8k *ab = A_BLOCK(j, b);                                                 \
        const __m256i bsums = _mm256_loadu_si256((const __m256i *)ab->bsums);                      \
        ad[j] = ab->d;                                                                             \
        for (int i = 0; i < NW; i++) M[i][j] = _mm256_madd_epi16(mn[i], bsums);                    \
    }
#endif

/// After a super-block (AVX2 sums): the Q4_K-form update of every chunk of pair lanes from the
/// int32 sums S[i][j] and mins terms M[i][j] (Q2_K, Q4_K and Q5_K share it).
#define Q4_K_UPDATE_PAIRS(S, M)                                                                    \
    for (int c = 0; 8 * c < NW * NA; c++) {                                                        \
        __m256i vs[8], vm[8];                                                                      \
        K_PAIR_INTS(vs, S, c, _mm256_setzero_si256())                                              \
        K_PAIR_INTS(vm, M, c, _mm256_setzero_si256())                                              \
        q4_K_update(NW, NA, c, ctram_reduce8_epi32(vs), ctram_reduce8_epi32(vm), wd, wm, ad, acc); \
    }

#endif
