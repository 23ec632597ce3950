// Q4_1 weights · Q8 activations. x = dw·q + mw, so per block
//   Σ x·(da·a) = (dw·da)·Σ q·a + mw·s,   s = da·Σa precomputed (ggml's Q8_1 trick).
#include "internal.h"

#define W_BLOCK(i, b) ((const ctram_block_q4_1 *)((const char *)w + (size_t)(i) * w_stride) + (b))

// Scalar and AVX2 keep the min term in its own scalar per (row, token) pair, added at the end.
CTRAM_INLINE void tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    float acc[4][4] = {{0}}, accm[4][4] = {{0}};
    for (int b = 0; b < nblocks; b++) {
        for (int i = 0; i < NW; i++) {
            const ctram_block_q4_1 *wb = W_BLOCK(i, b);
            const float dw = ctram_load_f16(&wb->d), mw = ctram_load_f16(&wb->m);
            for (int j = 0; j < NA; j++) {
                const int8_t *aq = A[j].qs + 32 * b;
                int32_t dot = 0;
                for (int k = 0; k < 16; k++) dot += (wb->qs[k] & 0xF) * aq[k] + (wb->qs[k] >> 4) * aq[k + 16];
                acc[i][j] += (dw * A[j].d[b]) * (float)dot;
                accm[i][j] += mw * A[j].s[b];
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = acc[i][j] + accm[i][j];
}

void ctram_tile_q4_1_scalar(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_scalar(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

#if CTRAM_X86
CTRAM_AVX2 CTRAM_INLINE void tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m256 acc[4][4];
    float accm[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm256_setzero_ps(), accm[i][j] = 0.0f;
    const __m256i ones = _mm256_set1_epi16(1);
    for (int b = 0; b < nblocks; b++) {
        __m256i wq[4];
        __m256 dw[4];
        float mw[4];
        CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q4_1));
        for (int i = 0; i < NW; i++) {
            const ctram_block_q4_1 *wb = W_BLOCK(i, b);
            wq[i] = ctram_unpack_nibbles(wb->qs);
            dw[i] = _mm256_set1_ps(ctram_load_f16(&wb->d));
            mw[i] = ctram_load_f16(&wb->m);
        }
        for (int j = 0; j < NA; j++) {
            const __m256i aq = _mm256_loadu_si256((const __m256i *)(A[j].qs + 32 * b));
            const __m256 da = _mm256_set1_ps(A[j].d[b]);
            const float sa = A[j].s[b];
            for (int i = 0; i < NW; i++) {
                const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(wq[i], aq), ones);
                acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw[i], da), _mm256_cvtepi32_ps(dot), acc[i][j]);
                accm[i][j] += mw[i] * sa;
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(acc[i][j]) + accm[i][j];
}


CTRAM_VNNI CTRAM_INLINE void tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m512 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm512_setzero_ps();
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    int b = 0;
    for (; b + 2 <= nblocks; b += 2) CTRAM_Q4_1_VNNI_PAIR(0)
    if (b < nblocks) CTRAM_Q4_1_VNNI_PAIR(1)
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum512(acc[i][j]);
}

CTRAM_AVX2 void ctram_tile_q4_1_avx2(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_avx2(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

CTRAM_VNNI void ctram_tile_q4_1_vnni(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_vnni(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}
#endif
