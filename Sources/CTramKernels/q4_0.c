// Q4_0 weights · Q8 activations. x = dw·(q − 8) with q a nibble, so per block
// dot = Σ q·a − 8·Σa: the unsigned nibbles feed u8 × s8 products directly and the offset is an
// exact integer correction from the activation block's precomputed Σa.
#include "internal.h"

#define W_BLOCK(i, b) ((const ctram_block_q4_0 *)((const char *)w + (size_t)(i) * w_stride) + (b))
#define A_BLOCK(j, b) ((const ctram_block_q8a *)((const char *)a + (size_t)(j) * a_stride) + (b))

CTRAM_INLINE void tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {
    float acc[4][4] = {{0}};
    for (int b = 0; b < nblocks; b++) {
        for (int i = 0; i < NW; i++) {
            const ctram_block_q4_0 *wb = W_BLOCK(i, b);
            const float dw = ctram_load_f16(&wb->d);
            for (int j = 0; j < NA; j++) {
                const ctram_block_q8a *ab = A_BLOCK(j, b);
                int32_t dot = 0;
                for (int k = 0; k < 16; k++)
                    dot += (wb->qs[k] & 0xF) * ab->qs[k] + (wb->qs[k] >> 4) * ab->qs[k + 16];
                dot -= 8 * ab->sum;
                acc[i][j] += (dw * ab->d) * (float)dot;
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = acc[i][j];
}

void ctram_tile_q4_0_scalar(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_scalar(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

#if CTRAM_X86
#define Q4_0_TILE_BODY(DOT)                                                                        \
    __m256 acc[4][4];                                                                              \
    for (int i = 0; i < NW; i++)                                                                   \
        for (int j = 0; j < NA; j++) acc[i][j] = _mm256_setzero_ps();                              \
    for (int b = 0; b < nblocks; b++) {                                                            \
        __m256i wq[4];                                                                             \
        __m256 dw[4];                                                                              \
        for (int i = 0; i < NW; i++) {                                                             \
            const ctram_block_q4_0 *wb = W_BLOCK(i, b);                                            \
            wq[i] = ctram_unpack_nibbles(wb->qs);                                                  \
            dw[i] = _mm256_set1_ps(ctram_load_f16(&wb->d));                                        \
        }                                                                                          \
        for (int j = 0; j < NA; j++) {                                                             \
            const ctram_block_q8a *ab = A_BLOCK(j, b);                                             \
            const __m256i aq = _mm256_loadu_si256((const __m256i *)ab->qs);                        \
            const __m256i corr = _mm256_zextsi128_si256(_mm_cvtsi32_si128(-8 * ab->sum));          \
            const __m256 da = _mm256_set1_ps(ab->d);                                               \
            for (int i = 0; i < NW; i++) {                                                         \
                const __m256i dot = DOT(corr, wq[i], aq);                                          \
                acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw[i], da), _mm256_cvtepi32_ps(dot), acc[i][j]); \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    for (int i = 0; i < NW; i++)                                                                   \
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(acc[i][j]);

// corr holds −8·Σa in lane 0 (zero-extended), so the correction stays exact integer arithmetic.
#define DOT_AVX2(c, u, s) _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
#define DOT_VNNI(c, u, s) _mm256_dpbusd_epi32(c, u, s)

CTRAM_AVX2 CTRAM_INLINE void tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) { Q4_0_TILE_BODY(DOT_AVX2) }
CTRAM_VNNI CTRAM_INLINE void tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) { Q4_0_TILE_BODY(DOT_VNNI) }

CTRAM_AVX2 void ctram_tile_q4_0_avx2(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_avx2(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

CTRAM_VNNI void ctram_tile_q4_0_vnni(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_vnni(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}
#endif
