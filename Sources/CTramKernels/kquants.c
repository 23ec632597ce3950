// Q4_K and Q6_K weights · Q8_K activations (256-element super-blocks), portable C.
// Per super-block the integer part is exact; one float update per (row, activation) pair.
#include "internal.h"

#define A_BLOCK(j, b) ((const ctram_block_q8k *)((const char *)a + (size_t)(j) * a_stride) + (b))

// Q4_K: x = d·sc_j·q − dmin·m_j for sub-block j (32 elements), q a nibble: elements 64g..64g+31
// are the low nibbles of qs[32g..32g+31] (sub-block 2g), the next 32 their high nibbles (2g+1).
CTRAM_INLINE float q4_K_block(const ctram_block_q4_K *wb, const ctram_block_q8k *ab) {
    int sc[8], m[8];
    for (int j = 0; j < 8; j++) ctram_scale_min_k4(j, wb->scales, &sc[j], &m[j]);
    int32_t sumi = 0, mins = 0;
    for (int g = 0; g < 4; g++) {
        const uint8_t *q = wb->qs + 32 * g;
        const int8_t *a = ab->qs + 64 * g;
        int32_t lo = 0, hi = 0;
        for (int l = 0; l < 32; l++) {
            lo += (q[l] & 0xF) * a[l];
            hi += (q[l] >> 4) * a[l + 32];
        }
        sumi += sc[2 * g] * lo + sc[2 * g + 1] * hi;
    }
    for (int j = 0; j < 8; j++) mins += m[j] * (ab->bsums[2 * j] + ab->bsums[2 * j + 1]);
    const float d = ctram_load_f16(&wb->d) * ab->d, dmin = ctram_load_f16(&wb->dmin) * ab->d;
    return d * (float)sumi - dmin * (float)mins;
}

// Q6_K: x = d·scales[e/16]·(q − 32), q 6-bit: per 128-element half, element l + 32k (l < 32)
// takes its low 4 bits from ql[l + 32(k&1)] (low nibble for k < 2, high for k ≥ 2) and its top
// 2 bits from qh[l] >> 2k.
CTRAM_INLINE float q6_K_block(const ctram_block_q6_K *wb, const ctram_block_q8k *ab) {
    int32_t part[16];
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = wb->ql + 64 * h, *qh = wb->qh + 32 * h;
        const int8_t *a = ab->qs + 128 * h;
        for (int half = 0; half < 2; half++) { // l in [16·half, 16·half + 16): one scale per stream
            int32_t p0 = 0, p1 = 0, p2 = 0, p3 = 0;
            for (int l = 16 * half; l < 16 * half + 16; l++) {
                p0 += ((int)((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32) * a[l];
                p1 += ((int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32) * a[l + 32];
                p2 += ((int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * a[l + 64];
                p3 += ((int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * a[l + 96];
            }
            const int g = 8 * h + half;
            part[g] = p0;
            part[g + 2] = p1;
            part[g + 4] = p2;
            part[g + 6] = p3;
        }
    }
    int32_t sumi = 0;
    for (int g = 0; g < 16; g++) sumi += wb->scales[g] * part[g];
    return (ctram_load_f16(&wb->d) * ab->d) * (float)sumi;
}

#define K_TILE(NAME, WTYPE, BLOCKFN)                                                               \
    CTRAM_INLINE void NAME##_tile(const int NW, const int NA, CTRAM_TILE_ARGS) {                   \
        float acc[4][4] = {{0}};                                                                   \
        for (int b = 0; b < nblocks; b++)                                                          \
            for (int i = 0; i < NW; i++) {                                                         \
                const WTYPE *wb = (const WTYPE *)((const char *)w + (size_t)i * w_stride) + b;     \
                for (int j = 0; j < NA; j++) acc[i][j] += BLOCKFN(wb, A_BLOCK(j, b));              \
            }                                                                                      \
        for (int i = 0; i < NW; i++)                                                               \
            for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = acc[i][j];                  \
    }                                                                                              \
    void ctram_tile_##NAME##_scalar(int nw, int na, CTRAM_TILE_ARGS) {                             \
        CTRAM_TILE_SWITCH(NAME##_TILE)                                                             \
    }
#define q4_K_TILE(NW, NA) q4_K_tile(NW, NA, CTRAM_TILE_PASS)
#define q6_K_TILE(NW, NA) q6_K_tile(NW, NA, CTRAM_TILE_PASS)
K_TILE(q4_K, ctram_block_q4_K, q4_K_block)
K_TILE(q6_K, ctram_block_q6_K, q6_K_block)
