#ifndef CTRAM_LANES32_H
#define CTRAM_LANES32_H
// Q5_0, Q5_1 and IQ4_NL weights · Q8 activations (32-element blocks), computed per block lane.
//
// Every variant computes, for each (weight row, activation row) pair, the same thing:
//   dot_b  = the block's exact integer dot product (offsets folded in as integers)
//   acc[l] = fma(dw_b·da_b, dot_b, acc[l])  (+ fma(mw_b, sa_b, ·) for Q5_1's min)  l = b mod 16
//   y      = ctram_hsum16_ref(acc)
// so a block's float work lands in its own lane, as in the x16 tiles, and the scalar code, the
// AVX2 tiles (8 blocks per step: 8 block dot products reduced to one vector, lane k = block k)
// and the AVX-512 VNNI tiles (the same steps with dpbusd) agree bit for bit. Per-block scales
// are gathered 8 at a time, so the float work is one multiply and one fma per 8 blocks.
//
//   Q5_0   { f16 d; u8 qh[4]; u8 qs[16] }         x = d·(q − 16), q = nibble | bit << 4
//   Q5_1   { f16 d; f16 m; u8 qh[4]; u8 qs[16] }  x = d·q + m
//   IQ4_NL { f16 d; u8 qs[16] }                   x = d·kvalues[nibble] (a fixed non-linear grid)
// Element k < 16 is the low nibble of qs[k], element k + 16 its high nibble; bit k of the
// little-endian qh word is element k's fifth bit.
#include "internal.h"
#include <math.h>

static const int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

#ifndef W_ROW
#define W_ROW(i) ((const char *)w + (size_t)(i) * w_stride)
#endif

CTRAM_INLINE uint32_t load_qh(const uint8_t qh[4]) {
    uint32_t v;
    memcpy(&v, qh, 4);
    return v;
}

// MARK: Scalar twins

/// The 32 integer weights of block b of a row (before the scale), and its scale and min.
CTRAM_INLINE void q5_0_decode(const void *row, int b, int q[32], float *d, float *m) {
    const ctram_block_q5_0 *wb = (const ctram_block_q5_0 *)row + b;
    const uint32_t qh = load_qh(wb->qh);
    for (int k = 0; k < 16; k++) {
        q[k] = (int)((wb->qs[k] & 0xF) | (((qh >> k) & 1) << 4)) - 16;
        q[k + 16] = (int)((wb->qs[k] >> 4) | (((qh >> (k + 16)) & 1) << 4)) - 16;
    }
    *d = ctram_load_f16(&wb->d);
    *m = 0;
}
CTRAM_INLINE void q5_1_decode(const void *row, int b, int q[32], float *d, float *m) {
    const ctram_block_q5_1 *wb = (const ctram_block_q5_1 *)row + b;
    const uint32_t qh = load_qh(wb->qh);
    for (int k = 0; k < 16; k++) {
        q[k] = (int)((wb->qs[k] & 0xF) | (((qh >> k) & 1) << 4));
        q[k + 16] = (int)((wb->qs[k] >> 4) | (((qh >> (k + 16)) & 1) << 4));
    }
    *d = ctram_load_f16(&wb->d);
    *m = ctram_load_f16(&wb->m);
}
CTRAM_INLINE void iq4_nl_decode(const void *row, int b, int q[32], float *d, float *m) {
    const ctram_block_iq4_nl *wb = (const ctram_block_iq4_nl *)row + b;
    for (int k = 0; k < 16; k++) {
        q[k] = iq4nl_values[wb->qs[k] & 0xF];
        q[k + 16] = iq4nl_values[wb->qs[k] >> 4];
    }
    *d = ctram_load_f16(&wb->d);
    *m = 0;
}

#define SCALAR_TILE(NAME, HAS_MIN)                                                                 \
    CTRAM_INLINE void NAME##_tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {            \
        CTRAM_ACTIVATION_VIEWS(NA)                                                                 \
        float acc[4][4][16];                                                                       \
        memset(acc, 0, sizeof acc);                                                                \
        for (int b = 0; b < nblocks; b++) {                                                        \
            const int l = b & 15;                                                                  \
            for (int i = 0; i < NW; i++) {                                                         \
                int q[32];                                                                         \
                float dw, mw;                                                                      \
                NAME##_decode(W_ROW(i), b, q, &dw, &mw);                                           \
                for (int j = 0; j < NA; j++) {                                                     \
                    const int8_t *aq = A[j].qs + 32 * b;                                           \
                    int32_t dot = 0;                                                               \
                    for (int k = 0; k < 32; k++) dot += q[k] * aq[k];                              \
                    acc[i][j][l] = fmaf(dw * A[j].d[b], (float)dot, acc[i][j][l]);                 \
                    if (HAS_MIN) acc[i][j][l] = fmaf(mw, A[j].s[b], acc[i][j][l]);                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (int i = 0; i < NW; i++)                                                               \
            for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum16_ref(acc[i][j]); \
    }                                                                                              \
    void ctram_tile_##NAME##_scalar(int nw, int na, CTRAM_TILE_ARGS) {                             \
        CTRAM_TILE_SWITCH(NAME##_SCALAR_TILE)                                                      \
    }
#if CTRAM_X86
// MARK: SIMD

/// 32 bits → 32 bytes, byte k = 0x10 where bit k is set (the fifth bit of element k).
CTRAM_AVX2 CTRAM_INLINE __m256i fifth_bits(uint32_t qh) {
    // byte k takes byte k/8 of qh, then everything but bit k mod 8 is set: all ones iff bit k is
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
        _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
    const __m256i probe = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_and_si256(_mm256_cmpeq_epi8(probe, _mm256_set1_epi8(-1)), _mm256_set1_epi8(0x10));
}

// Unpacked weights, one vector of 32 bytes per block in element order, as the dot below takes
// them: Q5_0/Q5_1 the unsigned q (0…31; Q5_0's −16 is the integer correction −16·Σa), IQ4_NL
// the signed grid values (AVX2) or the values + 128 as unsigned bytes (VNNI; correction −128·Σa).
CTRAM_AVX2 CTRAM_INLINE __m256i q5_unpack(const uint8_t qs[16], const uint8_t qh[4]) {
    return _mm256_or_si256(ctram_unpack_nibbles(qs), fifth_bits(load_qh(qh)));
}
#define Q5_0_UNPACK(row, b) q5_unpack(((const ctram_block_q5_0 *)(row) + (b))->qs, ((const ctram_block_q5_0 *)(row) + (b))->qh)
#define Q5_1_UNPACK(row, b) q5_unpack(((const ctram_block_q5_1 *)(row) + (b))->qs, ((const ctram_block_q5_1 *)(row) + (b))->qh)
#define IQ4_NL_UNPACK(row, b) _mm256_shuffle_epi8(grid, ctram_unpack_nibbles(((const ctram_block_iq4_nl *)(row) + (b))->qs))
#define Q5_0_SCALE(row, b) ctram_load_u16(&((const ctram_block_q5_0 *)(row) + (b))->d)
#define Q5_1_SCALE(row, b) ctram_load_u16(&((const ctram_block_q5_1 *)(row) + (b))->d)
#define Q5_1_MIN(row, b) ctram_load_u16(&((const ctram_block_q5_1 *)(row) + (b))->m)
#define IQ4_NL_SCALE(row, b) ctram_load_u16(&((const ctram_block_iq4_nl *)(row) + (b))->d)
#define NO_MIN(row, b) 0

// Block dot products → 8 int32 lanes whose sum is Σ w·a.
#define DOT_U8_AVX2(wq, aq) _mm256_madd_epi16(_mm256_maddubs_epi16(wq, aq), ones)
#define DOT_S8_AVX2(wq, aq) _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(aq, wq)), ones)
#define DOT_U8_VNNI(wq, aq) _mm256_dpbusd_epi32(_mm256_setzero_si256(), wq, aq)

/// 8 f16 scales (blocks b…b+7 of a row; zero past `n`) → 8 floats.
#define GATHER_F16(FIELD, row, b, n)                                                               \
    _mm256_cvtph_ps(_mm_setr_epi16((short)FIELD(row, (b) + 0), (short)((n) > 1 ? FIELD(row, (b) + 1) : 0),       \
                                   (short)((n) > 2 ? FIELD(row, (b) + 2) : 0), (short)((n) > 3 ? FIELD(row, (b) + 3) : 0), \
                                   (short)((n) > 4 ? FIELD(row, (b) + 4) : 0), (short)((n) > 5 ? FIELD(row, (b) + 5) : 0), \
                                   (short)((n) > 6 ? FIELD(row, (b) + 6) : 0), (short)((n) > 7 ? FIELD(row, (b) + 7) : 0)))

// The 8-block steps over blocks [b0, nblocks) of every (row, activation) pair: each pair's 16
// float lanes live in acc[i][j] (two __m256: 4 × 4 × 2 vectors do not fit AVX2's registers),
// step s updating half (b / 8) & 1. A short last step blends only its lanes, leaving the others
// exactly as the scalar twin does.
#define LANES_STEPS(NAME, TARGET, WTYPE, UNPACK, SCALE, MIN, DOT, CORR, HAS_MIN, SETUP)            \
    TARGET CTRAM_INLINE void NAME##_steps(const int NW, const int NA, const ctram_q8a_row A[4], const void *w, size_t w_stride, \
                                          int b0, int nblocks, __m256 acc[4][4][2]) {                \
        const __m256i ones = _mm256_set1_epi16(1);                                                 \
        (void)ones;                                                                                \
        SETUP                                                                                      \
        for (int b = b0; b < nblocks; b += 8) {                                                    \
            const int n = nblocks - b < 8 ? nblocks - b : 8, h = (b >> 3) & 1;                     \
            const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); \
            CTRAM_PREFETCH_BLOCKS(b, b + n, sizeof(WTYPE));                                        \
            for (int i = 0; i < NW; i++) {                                                         \
                const char *row = W_ROW(i);                                                        \
                __m256i wq[8];                                                                     \
                for (int k = 0; k < 8; k++) wq[k] = k < n ? UNPACK(row, b + k) : _mm256_setzero_si256(); \
                const __m256 dw = GATHER_F16(SCALE, row, b, n);                                    \
                const __m256 mw = HAS_MIN ? GATHER_F16(MIN, row, b, n) : _mm256_setzero_ps();      \
                (void)mw;                                                                          \
                for (int j = 0; j < NA; j++) {                                                     \
                    __m256i v[8];                                                                  \
                    for (int k = 0; k < 8; k++)                                                    \
                        v[k] = k < n ? DOT(wq[k], _mm256_loadu_si256((const __m256i *)(A[j].qs + 32 * (b + k)))) : _mm256_setzero_si256(); \
                    __m256i dot = ctram_reduce8_epi32(v);                                          \
                    if (CORR) dot = _mm256_add_epi32(dot, _mm256_mullo_epi32(_mm256_set1_epi32(CORR), \
                                                                             _mm256_loadu_si256((const __m256i *)(A[j].sum + b)))); \
                    const __m256 d = _mm256_mul_ps(dw, _mm256_loadu_ps(A[j].d + b));               \
                    __m256 u = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot), acc[i][j][h]);          \
                    if (HAS_MIN) u = _mm256_fmadd_ps(mw, _mm256_loadu_ps(A[j].s + b), u);          \
                    acc[i][j][h] = n == 8 ? u : _mm256_blendv_ps(acc[i][j][h], u, _mm256_castsi256_ps(live)); \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

/// A whole tile of GGUF-layout rows: every block through NAME##_steps.
#define LANES_TILE(NAME, TARGET)                                                                   \
    TARGET CTRAM_INLINE void NAME##_tile(const int NW, const int NA, CTRAM_TILE_ARGS) {            \
        CTRAM_ACTIVATION_VIEWS(NA)                                                                 \
        __m256 acc[4][4][2];                                                                       \
        for (int i = 0; i < NW; i++)                                                               \
            for (int j = 0; j < NA; j++) acc[i][j][0] = acc[i][j][1] = _mm256_setzero_ps();        \
        NAME##_steps(NW, NA, A, w, w_stride, 0, nblocks, acc);                                     \
        for (int i = 0; i < NW; i++)                                                               \
            for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(_mm256_add_ps(acc[i][j][0], acc[i][j][1])); \
    }                                                                                              \
    TARGET void ctram_tile_##NAME(int nw, int na, CTRAM_TILE_ARGS) {                               \
        CTRAM_TILE_SWITCH(NAME##_TILE)                                                             \
    }

#define IQ4_GRID_AVX2 const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)iq4nl_values));
// VNNI reads IQ4_NL's grid as unsigned bytes value + 128 (dpbusd takes u8 × s8).
#define IQ4_GRID_VNNI const __m256i grid = _mm256_xor_si256(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)iq4nl_values)), _mm256_set1_epi8((char)0x80));
#endif

#endif
