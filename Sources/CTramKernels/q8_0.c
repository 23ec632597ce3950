// Q8_0 weights · Q8 activations. Per block: exact int32 dot, then acc += (dw·da)·dot in float.
#include "internal.h"

#define W_BLOCK(i, b) ((const ctram_block_q8_0 *)((const char *)w + (size_t)(i) * w_stride) + (b))
#define A_BLOCK(j, b) ((const ctram_block_q8a *)((const char *)a + (size_t)(j) * a_stride) + (b))

CTRAM_INLINE void tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {
    float acc[4][4] = {{0}};
    for (int b = 0; b < nblocks; b++) {
        for (int i = 0; i < NW; i++) {
            const ctram_block_q8_0 *wb = W_BLOCK(i, b);
            const float dw = ctram_load_f16(&wb->d);
            for (int j = 0; j < NA; j++) {
                const ctram_block_q8a *ab = A_BLOCK(j, b);
                int32_t dot = 0;
                for (int k = 0; k < 32; k++) dot += wb->qs[k] * ab->qs[k];
                acc[i][j] += (dw * ab->d) * (float)dot;
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = acc[i][j];
}

void ctram_tile_q8_0_scalar(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_scalar(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

#if CTRAM_X86
// |w| as unsigned × sign(a, w) as signed: maddubs (AVX2) or dpbusd (VNNI) needs u8 × s8.
#define Q8_0_TILE_BODY(DOT)                                                                        \
    __m256 acc[4][4];                                                                              \
    for (int i = 0; i < NW; i++)                                                                   \
        for (int j = 0; j < NA; j++) acc[i][j] = _mm256_setzero_ps();                              \
    for (int b = 0; b < nblocks; b++) {                                                            \
        __m256i wq[4], wabs[4];                                                                    \
        __m256 dw[4];                                                                              \
        for (int i = 0; i < NW; i++) {                                                             \
            const ctram_block_q8_0 *wb = W_BLOCK(i, b);                                            \
            wq[i] = _mm256_loadu_si256((const __m256i *)wb->qs);                                   \
            wabs[i] = _mm256_abs_epi8(wq[i]);                                                      \
            dw[i] = _mm256_set1_ps(ctram_load_f16(&wb->d));                                        \
        }                                                                                          \
        for (int j = 0; j < NA; j++) {                                                             \
            const ctram_block_q8a *ab = A_BLOCK(j, b);                                             \
            const __m256i aq = _mm256_loadu_si256((const __m256i *)ab->qs);                        \
            const __m256 da = _mm256_set1_ps(ab->d);                                               \
            for (int i = 0; i < NW; i++) {                                                         \
                const __m256i dot = DOT(wabs[i], _mm256_sign_epi8(aq, wq[i]));                     \
                acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw[i], da), _mm256_cvtepi32_ps(dot), acc[i][j]); \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    for (int i = 0; i < NW; i++)                                                                   \
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(acc[i][j]);

#define DOT_AVX2(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
#define DOT_VNNI(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)

CTRAM_AVX2 CTRAM_INLINE void tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) { Q8_0_TILE_BODY(DOT_AVX2) }
CTRAM_VNNI CTRAM_INLINE void tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) { Q8_0_TILE_BODY(DOT_VNNI) }

CTRAM_AVX2 void ctram_tile_q8_0_avx2(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_avx2(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

CTRAM_VNNI void ctram_tile_q8_0_vnni(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_vnni(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}
#endif
