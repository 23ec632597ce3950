// Q8_0 weights · Q8 activations. Per block: exact int32 dot product of the int8 values, then
// acc += (dw·da)·dot in float. Every (row, token) pair follows the same steps in every tile shape.
#include "internal.h"

#define W_BLOCK(i, b) ((const ctram_block_q8_0 *)((const char *)w + (size_t)(i) * w_stride) + (b))

CTRAM_INLINE void tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    float acc[4][4] = {{0}};
    for (int b = 0; b < nblocks; b++) {
        for (int i = 0; i < NW; i++) {
            const ctram_block_q8_0 *wb = W_BLOCK(i, b);
            const float dw = ctram_load_f16(&wb->d);
            for (int j = 0; j < NA; j++) {
                const int8_t *aq = A[j].qs + 32 * b;
                int32_t dot = 0;
                for (int k = 0; k < 32; k++) dot += wb->qs[k] * aq[k];
                acc[i][j] += (dw * A[j].d[b]) * (float)dot;
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
// AVX2, one block per step: |w| (u8) × sign(a, w) (s8) through maddubs, 8 int32 lanes.
CTRAM_AVX2 CTRAM_INLINE void tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m256 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int b = 0; b < nblocks; b++) {
        __m256i wq[4], wabs[4];
        __m256 dw[4];
        CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q8_0));
        for (int i = 0; i < NW; i++) {
            const ctram_block_q8_0 *wb = W_BLOCK(i, b);
            wq[i] = _mm256_loadu_si256((const __m256i *)wb->qs);
            wabs[i] = _mm256_abs_epi8(wq[i]);
            dw[i] = _mm256_set1_ps(ctram_load_f16(&wb->d));
        }
        for (int j = 0; j < NA; j++) {
            const __m256i aq = _mm256_loadu_si256((const __m256i *)(A[j].qs + 32 * b));
            const __m256 da = _mm256_set1_ps(A[j].d[b]);
            for (int i = 0; i < NW; i++) {
                const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(wabs[i], _mm256_sign_epi8(aq, wq[i])), ones);
                acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw[i], da), _mm256_cvtepi32_ps(dot), acc[i][j]);
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(acc[i][j]);
}


CTRAM_VNNI CTRAM_INLINE void tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m512 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm512_setzero_ps();
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    int b = 0;
    for (; b + 2 <= nblocks; b += 2) CTRAM_Q8_0_VNNI_PAIR(0)
    if (b < nblocks) CTRAM_Q8_0_VNNI_PAIR(1)
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum512(acc[i][j]);
}

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
