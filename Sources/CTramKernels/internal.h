#ifndef CTRAM_INTERNAL_H
#define CTRAM_INTERNAL_H
#include "CTramKernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CTRAM_X86 1
#define CTRAM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define CTRAM_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))
#endif
#define CTRAM_INLINE static inline __attribute__((always_inline))

// GGUF weight blocks (ggml-common.h).
typedef struct { uint16_t d; int8_t qs[32]; } ctram_block_q8_0;              // 34 bytes
typedef struct { uint16_t d; uint8_t qs[16]; } ctram_block_q4_0;             // 18 bytes
typedef struct { uint16_t d; uint16_t m; uint8_t qs[16]; } ctram_block_q4_1; // 20 bytes
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } ctram_block_q5_0;             // 22 bytes
typedef struct { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; } ctram_block_q5_1; // 24 bytes
typedef struct { uint16_t d; uint8_t qs[16]; } ctram_block_iq4_nl;                          // 18 bytes
typedef struct { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[128]; } ctram_block_q4_K; // 144
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } ctram_block_q6_K; // 210
typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint16_t d; uint16_t dmin; } ctram_block_q2_K; // 84
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; } ctram_block_q3_K; // 110
typedef struct { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } ctram_block_q5_K; // 176

/// IEEE half → float, exact.
CTRAM_INLINE float ctram_f16_to_f32(uint16_t h) {
#if defined(__F16C__)
    return _cvtsh_ss(h);
#else
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { // subnormal: normalise
        int e = -1;
        do { man <<= 1; e++; } while ((man & 0x400) == 0);
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
#endif
}

CTRAM_INLINE float ctram_load_f16(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return ctram_f16_to_f32(h);
}

/// Q4_K's 6-bit scale j and min j (ggml get_scale_min_k4).
CTRAM_INLINE void ctram_scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// Expands a tile body macro TILE(NW, NA) for the runtime (nw, na), so every shape is compiled
/// with constant loop bounds (fully unrolled, accumulators in registers).
#define CTRAM_TILE_SWITCH(TILE)                                                                    \
    switch (nw * 8 + na) {                                                                         \
    case 9: TILE(1, 1); break;  case 10: TILE(1, 2); break; case 11: TILE(1, 3); break;            \
    case 12: TILE(1, 4); break; case 17: TILE(2, 1); break; case 18: TILE(2, 2); break;            \
    case 19: TILE(2, 3); break; case 20: TILE(2, 4); break; case 25: TILE(3, 1); break;            \
    case 26: TILE(3, 2); break; case 27: TILE(3, 3); break; case 28: TILE(3, 4); break;            \
    case 33: TILE(4, 1); break; case 34: TILE(4, 2); break; case 35: TILE(4, 3); break;            \
    case 36: TILE(4, 4); break;                                                                    \
    default: __builtin_trap();                                                                     \
    }

#define CTRAM_TILE_ARGS int nblocks, const void *w, size_t w_stride, const void *a, size_t a_stride, float *y, size_t y_stride
#define CTRAM_TILE_PASS nblocks, w, w_stride, a, a_stride, y, y_stride

/// Software prefetch for the tile the caller runs the time after next, which reads the `nw` rows
/// after the next tile's (KernelContext walks a chunk's rows tile by tile): the cache lines of
/// their bytes [lo, hi), the part of a row this tile is reading now. A tile reads its rows a
/// block at a time and strides between them; at one token per matmul (decode) every weight byte
/// comes from DRAM once, and the hardware prefetchers, which follow a few sequential streams,
/// leave that latency exposed (1.5B Q4_K_M decode, AVX2 tile: 7 → 27 tok/s on Zen 5). The lines
/// go to L2 (prefetcht2), not L1: an L1 prefetch holds one of the core's few L1 miss buffers
/// until its line arrives, which caps the lines in flight, while L2 keeps many more requests
/// outstanding; and two tiles ahead gives them the time. Streaming Q4_K/Q6_K rows from DRAM
/// on a 2-core Zen 4, both cores: 16.6 → 30.6 GB/s (Q4_K, 1536 columns) and 26.5 → 31.8 GB/s
/// (Q6_K, 8960). In every layout (GGUF and x16) block b of a row occupies bytes
/// [b·S, (b + 1)·S), so callers pass block ranges. Addresses are computed as integers:
/// prefetching past the matrix does not fault.
CTRAM_INLINE void ctram_prefetch_next_tile(const void *w, size_t w_stride, int nw, size_t lo, size_t hi) {
    for (int i = 2 * nw; i < 3 * nw; i++) {
        const uintptr_t row = (uintptr_t)w + (size_t)i * w_stride, p = row + lo, e = row + hi;
        if (lo == 0) __builtin_prefetch((const void *)p, 0, 1);
        for (uintptr_t l = (p + 63) & ~(uintptr_t)63; l < e; l += 64) __builtin_prefetch((const void *)l, 0, 1);
    }
}
/// Blocks [b0, b1) of size S: the ctram_prefetch_next_tile of a tile body (w, w_stride, NW in scope).
#define CTRAM_PREFETCH_BLOCKS(b0, b1, S) ctram_prefetch_next_tile(w, w_stride, NW, (size_t)(b0) * (S), (size_t)(b1) * (S))

#if CTRAM_X86
/// Horizontal sum of 8 floats in a fixed order (the same everywhere: part of batch invariance).
CTRAM_AVX2 CTRAM_INLINE float ctram_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/// Lane l = the sum of the 8 int32 lanes of v[l].
CTRAM_AVX2 CTRAM_INLINE __m256i ctram_reduce8_epi32(const __m256i v[8]) {
    const __m256i h0 = _mm256_hadd_epi32(v[0], v[1]), h1 = _mm256_hadd_epi32(v[2], v[3]);
    const __m256i h2 = _mm256_hadd_epi32(v[4], v[5]), h3 = _mm256_hadd_epi32(v[6], v[7]);
    const __m256i g0 = _mm256_hadd_epi32(h0, h1), g1 = _mm256_hadd_epi32(h2, h3); // [v0..v3 low | v0..v3 high]
    return _mm256_add_epi32(_mm256_permute2x128_si256(g0, g1, 0x20), _mm256_permute2x128_si256(g0, g1, 0x31));
}

/// 16 bytes of packed nibbles → 32 bytes: low nibbles in bytes 0–15, high nibbles in 16–31.
CTRAM_AVX2 CTRAM_INLINE __m256i ctram_unpack_nibbles(const uint8_t *p) {
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}
#endif

#if CTRAM_X86
/// Two f16 scales → 16 float lanes: h0 in lanes 0–7 (block b), h1 in lanes 8–15 (block b + 1).
CTRAM_VNNI CTRAM_INLINE __m512 ctram_f16_pair_lanes(uint16_t h0, uint16_t h1) {
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16((short)h0)), _mm_set1_epi16((short)h1), 1);
    return _mm512_cvtph_ps(v);
}
CTRAM_INLINE uint16_t ctram_load_u16(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}
/// Horizontal sum of 16 floats in a fixed order (halves, then ctram_hsum256).
CTRAM_VNNI CTRAM_INLINE float ctram_hsum512(__m512 v) {
    return ctram_hsum256(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}
#endif

#if CTRAM_X86
// Two-blocks-per-vector steps in GGUF block layout, shared by the plain tiles (q4_1.c, q8_0.c)
// and the short last group of the x16 tiles (whose blocks sit where GGUF puts them: group g
// starts at block 16g's GGUF offset). They expect in scope: W_BLOCK(i, b), block index `b`,
// the tile's NW, NA, A[] and acc[][] (__m512), and `nibble` (Q4_1) or `flip` (Q8_0).
// AVX-512 VNNI, two blocks per step, nibbles expanded as in q4_0.c. The min term goes into the
// same lanes: each of a block's 8 lanes gets mw·(s/8), precomputed as the row's `sv` lanes.
#define CTRAM_Q4_1_VNNI_PAIR(TAIL)                                                                       \
    {                                                                                              \
        CTRAM_PREFETCH_BLOCKS(b, b + 2 - (TAIL), sizeof(ctram_block_q4_1));                        \
        const __mmask16 m = (TAIL) ? 0x00FF : 0xFFFF;                                              \
        __m512i wq[4];                                                                             \
        __m512 dw[4], mw[4];                                                                       \
        for (int i = 0; i < NW; i++) {                                                             \
            const ctram_block_q4_1 *wb = W_BLOCK(i, b);                                            \
            const __m128i lo = _mm_loadu_si128((const __m128i *)wb[0].qs);                         \
            const __m256i q = (TAIL) ? _mm256_zextsi128_si256(lo)                                  \
                : _mm256_inserti128_si256(_mm256_castsi128_si256(lo), _mm_loadu_si128((const __m128i *)wb[1].qs), 1); \
            const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1); \
            wq[i] = _mm512_and_si512(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)), nibble);  \
            dw[i] = ctram_f16_pair_lanes(ctram_load_u16(&wb[0].d), (TAIL) ? 0 : ctram_load_u16(&wb[1].d)); \
            mw[i] = ctram_f16_pair_lanes(ctram_load_u16(&wb[0].m), (TAIL) ? 0 : ctram_load_u16(&wb[1].m)); \
        }                                                                                          \
        for (int j = 0; j < NA; j++) {                                                             \
            const __m512i aq = _mm512_maskz_loadu_epi32(m, A[j].qs + 32 * b);                      \
            const __m512 da = _mm512_maskz_loadu_ps(m, A[j].dv + 8 * b);                           \
            const __m512 sa = _mm512_maskz_loadu_ps(m, A[j].sv + 8 * b);                           \
            for (int i = 0; i < NW; i++) {                                                         \
                const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq[i], aq);        \
                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], da), _mm512_cvtepi32_ps(dot), acc[i][j]); \
                acc[i][j] = _mm512_fmadd_ps(mw[i], sa, acc[i][j]);                                 \
            }                                                                                      \
        }                                                                                          \
    }

// AVX-512 VNNI, two blocks per step (lanes 0–7 block b, 8–15 block b + 1). The weights are read
// as unsigned w + 128 (xor 0x80), so one dpbusd gives Σ(w + 128)·a, started from the activation
// row's precomputed lanes −128·Σa: the exact Σ w·a with no abs/sign work per pair.
// An odd last block runs the same step with zeroed upper lanes.
#define CTRAM_Q8_0_VNNI_PAIR(TAIL)                                                                       \
    {                                                                                              \
        CTRAM_PREFETCH_BLOCKS(b, b + 2 - (TAIL), sizeof(ctram_block_q8_0));                        \
        const __mmask16 m = (TAIL) ? 0x00FF : 0xFFFF;                                              \
        __m512i wq[4];                                                                             \
        __m512 dw[4];                                                                              \
        for (int i = 0; i < NW; i++) {                                                             \
            const ctram_block_q8_0 *wb = W_BLOCK(i, b);                                            \
            const __m256i lo = _mm256_loadu_si256((const __m256i *)wb[0].qs);                      \
            const __m512i both = (TAIL) ? _mm512_zextsi256_si512(lo)                               \
                : _mm512_inserti64x4(_mm512_castsi256_si512(lo), _mm256_loadu_si256((const __m256i *)wb[1].qs), 1); \
            wq[i] = _mm512_maskz_xor_epi32(m, both, flip);                                         \
            dw[i] = ctram_f16_pair_lanes(ctram_load_u16(&wb[0].d), (TAIL) ? 0 : ctram_load_u16(&wb[1].d)); \
        }                                                                                          \
        for (int j = 0; j < NA; j++) {                                                             \
            const __m512i aq = _mm512_maskz_loadu_epi32(m, A[j].qs + 32 * b);                      \
            const __m512i c = _mm512_maskz_loadu_epi32(m, A[j].c128 + 8 * b);                      \
            const __m512 da = _mm512_maskz_loadu_ps(m, A[j].dv + 8 * b);                           \
            for (int i = 0; i < NW; i++) {                                                         \
                const __m512i dot = _mm512_dpbusd_epi32(c, wq[i], aq);                             \
                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], da), _mm512_cvtepi32_ps(dot), acc[i][j]); \
            }                                                                                      \
        }                                                                                          \
    }
#endif

#if CTRAM_X86
// AVX2 tiles on the x16 layouts: a 64-byte x16 vector is two 32-byte halves, lanes 0–7 and
// 8–15 of the group, and maddubs + madd give each int32 lane exactly the sum dpbusd gives it.
// So with the float work done per lane in the same order, the AVX2 tiles equal the VNNI ones
// (and their scalar twins) bit for bit. Helpers for short last groups:

/// 32-byte load of the n ≤ 8 first 32-bit words at p (the rest zero, not read).
CTRAM_AVX2 CTRAM_INLINE __m256i ctram_load_words(const void *p, int n) {
    if (n >= 8) return _mm256_loadu_si256((const __m256i *)p);
    const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_maskload_epi32((const int *)p, live);
}
/// 8 floats at p, lanes n… zero (not read).
CTRAM_AVX2 CTRAM_INLINE __m256 ctram_load_floats(const float *p, int n) {
    return _mm256_castsi256_ps(ctram_load_words(p, n));
}
/// n ≤ 8 f16 values at p → 8 floats, lanes n… zero (not read).
CTRAM_AVX2 CTRAM_INLINE __m256 ctram_load_f16x8(const void *p, int n) {
    if (n >= 8) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    uint16_t h[8] = {0};
    memcpy(h, p, 2 * (size_t)(n > 0 ? n : 0));
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}
#endif

/// Rows of the x16 layouts: blocks in group g (16 a group, the last one shorter).
CTRAM_INLINE int ctram_x16_group_size(int nblocks, int g) { return nblocks - 16 * g < 16 ? nblocks - 16 * g : 16; }
/// A last group this short stays in GGUF block layout and runs the pair steps above: a masked
/// 16-lane group costs 8 dpbusd whatever its size, which for a 576-wide row (16 + 2 blocks)
/// would be half the work again.
CTRAM_INLINE int ctram_x16_short_tail(int t) { return t < 16 && t <= 4; }
/// The 16-lane reduction of ctram_hsum512, in scalar code (for the scalar twins of x16 tiles).
CTRAM_INLINE float ctram_hsum16_ref(const float acc[16]) {
    float h8[8], h4[4];
    for (int l = 0; l < 8; l++) h8[l] = acc[l] + acc[l + 8];
    for (int l = 0; l < 4; l++) h4[l] = h8[l] + h8[l + 4];
    const float s0 = h4[0] + h4[2], s1 = h4[1] + h4[3];
    return s0 + s1;
}

CTRAM_INLINE size_t ctram_round64(size_t n) { return (n + 63) & ~(size_t)63; }

/// The arrays of a quantized activation row (see ctram_q8a_row_bytes), inlined into the tiles:
/// a call per tile and row cost 3.5% of prefill time.
CTRAM_INLINE ctram_q8a_row ctram_q8a_view_inline(const void *row, int nblocks) {
    const size_t n = (size_t)nblocks;
    const char *p = (const char *)row;
    ctram_q8a_row v;
    v.qs = (const int8_t *)p;   p += ctram_round64(32 * n);
    v.d = (const float *)p;     p += ctram_round64(4 * n);
    v.s = (const float *)p;     p += ctram_round64(4 * n);
    v.sum = (const int32_t *)p; p += ctram_round64(4 * n);
    v.dv = (const float *)p;    p += ctram_round64(32 * n);
    v.sv = (const float *)p;    p += ctram_round64(32 * n);
    v.c8 = (const int32_t *)p;  p += ctram_round64(32 * n);
    v.c128 = (const int32_t *)p; p += ctram_round64(32 * n);
    v.qx = (const int8_t *)p;
    return v;
}

/// Views of the activation rows of a tile (j < na).
#define CTRAM_ACTIVATION_VIEWS(NA)                                                                 \
    ctram_q8a_row A[4];                                                                            \
    for (int j = 0; j < NA; j++) A[j] = ctram_q8a_view_inline((const char *)a + (size_t)j * a_stride, nblocks);

// Per-type tile kernels (q8_0.c, q4_0.c, q4_1.c, kquants.c).
#define CTRAM_DECLARE_TILE(name) void name(int nw, int na, CTRAM_TILE_ARGS);
CTRAM_DECLARE_TILE(ctram_tile_q8_0_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q4_0_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q4_1_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q4_K_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q6_K_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q5_0_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q5_1_scalar)
CTRAM_DECLARE_TILE(ctram_tile_iq4_nl_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q2_K_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q3_K_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q5_K_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q4_1x16_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q5_0x16_scalar)
CTRAM_DECLARE_TILE(ctram_tile_q8_0x16_scalar)
#if CTRAM_X86
CTRAM_DECLARE_TILE(ctram_tile_q4_1x16_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q4_1x16_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q5_0x16_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q8_0x16_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q5_0x16_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q8_0x16_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q8_0_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q4_0_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q4_1_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q8_0_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q4_0_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q4_1_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q4_K_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q6_K_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q4_K_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q6_K_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q5_0_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q5_1_avx2)
CTRAM_DECLARE_TILE(ctram_tile_iq4_nl_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q5_0_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q5_1_vnni)
CTRAM_DECLARE_TILE(ctram_tile_iq4_nl_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q2_K_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q3_K_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q5_K_avx2)
CTRAM_DECLARE_TILE(ctram_tile_q2_K_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q3_K_vnni)
CTRAM_DECLARE_TILE(ctram_tile_q5_K_vnni)
#endif

#endif
