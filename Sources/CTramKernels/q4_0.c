// Q4_0 weights · Q8 activations. x = dw·(q − 8) with q a nibble, so per block
// dot = Σ q·a − 8·Σa: the unsigned nibbles feed u8 × s8 products directly and the offset is an
// exact integer correction from the activation row's precomputed sums.
#include "internal.h"

#define W_BLOCK(i, b) ((const ctram_block_q4_0 *)((const char *)w + (size_t)(i) * w_stride) + (b))

CTRAM_INLINE void tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    float acc[4][4] = {{0}};
    for (int b = 0; b < nblocks; b++) {
        for (int i = 0; i < NW; i++) {
            const ctram_block_q4_0 *wb = W_BLOCK(i, b);
            const float dw = ctram_load_f16(&wb->d);
            for (int j = 0; j < NA; j++) {
                const int8_t *aq = A[j].qs + 32 * b;
                int32_t dot = 0;
                for (int k = 0; k < 16; k++) dot += (wb->qs[k] & 0xF) * aq[k] + (wb->qs[k] >> 4) * aq[k + 16];
                dot -= 8 * A[j].sum[b];
                acc[i][j] += (dw * A[j].d[b]) * (float)dot;
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
// AVX2, one block per step: maddubs(nibbles u8, a s8), minus −8·Σa placed in lane 0.
CTRAM_AVX2 CTRAM_INLINE void tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m256 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int b = 0; b < nblocks; b++) {
        __m256i wq[4];
        __m256 dw[4];
        CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q4_0));
        for (int i = 0; i < NW; i++) {
            const ctram_block_q4_0 *wb = W_BLOCK(i, b);
            wq[i] = ctram_unpack_nibbles(wb->qs);
            dw[i] = _mm256_set1_ps(ctram_load_f16(&wb->d));
        }
        for (int j = 0; j < NA; j++) {
            const __m256i aq = _mm256_loadu_si256((const __m256i *)(A[j].qs + 32 * b));
            const __m256i corr = _mm256_zextsi128_si256(_mm_cvtsi32_si128(-8 * A[j].sum[b]));
            const __m256 da = _mm256_set1_ps(A[j].d[b]);
            for (int i = 0; i < NW; i++) {
                const __m256i dot = _mm256_add_epi32(corr, _mm256_madd_epi16(_mm256_maddubs_epi16(wq[i], aq), ones));
                acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw[i], da), _mm256_cvtepi32_ps(dot), acc[i][j]);
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(acc[i][j]);
}

// AVX-512 VNNI, two blocks per step: 32 nibble bytes expand to 64 bytes ordered
// [b lo, b hi, b+1 lo, b+1 hi] (matching elements 0–15, 16–31 of each block); dpbusd starts from
// the precomputed lanes −8·Σa. An odd last block runs with zeroed upper lanes.
#define Q4_0_VNNI_STEP(TAIL)                                                                       \
    {                                                                                              \
        CTRAM_PREFETCH_BLOCKS(b, b + 2 - (TAIL), sizeof(ctram_block_q4_0));                        \
        const __mmask16 m = (TAIL) ? 0x00FF : 0xFFFF;                                              \
        __m512i wq[4];                                                                             \
        __m512 dw[4];                                                                              \
        for (int i = 0; i < NW; i++) {                                                             \
            const ctram_block_q4_0 *wb = W_BLOCK(i, b);                                            \
            const __m128i lo = _mm_loadu_si128((const __m128i *)wb[0].qs);                         \
            const __m256i q = (TAIL) ? _mm256_zextsi128_si256(lo)                                  \
                : _mm256_inserti128_si256(_mm256_castsi128_si256(lo), _mm_loadu_si128((const __m128i *)wb[1].qs), 1); \
            const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1); \
            wq[i] = _mm512_and_si512(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)), nibble);  \
            dw[i] = ctram_f16_pair_lanes(ctram_load_u16(&wb[0].d), (TAIL) ? 0 : ctram_load_u16(&wb[1].d)); \
        }                                                                                          \
        for (int j = 0; j < NA; j++) {                                                             \
            const __m512i aq = _mm512_maskz_loadu_epi32(m, A[j].qs + 32 * b);                      \
            const __m512i c = _mm512_maskz_loadu_epi32(m, A[j].c8 + 8 * b);                        \
            const __m512 da = _mm512_maskz_loadu_ps(m, A[j].dv + 8 * b);                           \
            for (int i = 0; i < NW; i++) {                                                         \
                const __m512i dot = _mm512_dpbusd_epi32(c, wq[i], aq);                             \
                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], da), _mm512_cvtepi32_ps(dot), acc[i][j]); \
            }                                                                                      \
        }                                                                                          \
    }

CTRAM_VNNI CTRAM_INLINE void tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m512 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm512_setzero_ps();
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    int b = 0;
    for (; b + 2 <= nblocks; b += 2) Q4_0_VNNI_STEP(0)
    if (b < nblocks) Q4_0_VNNI_STEP(1)
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum512(acc[i][j]);
}

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
