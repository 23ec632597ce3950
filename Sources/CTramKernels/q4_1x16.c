// Q4_1 weights repacked 16 blocks at a time ("x16"), · Q8 activations in the matching
// interleaved layout (ctram_q8a_row.qx). See CTramKernels.h for both layouts.
//
// Why: with GGUF's layout each 64-byte dpbusd covers two blocks, so every dpbusd needs its own
// int→float conversion, two scale multiplies and an FMA for the min term, plus ~7 shuffles to
// expand the nibbles (about 5 vector ops per dpbusd; perf showed the tile at ~12% of VNNI peak).
// Interleaved, int32 lane l of every vector belongs to block l of the group, so a block's 8
// dpbusd accumulate in integer, and the float work (convert, scale, min term) happens once per
// 16 blocks; nibbles need one AND and one shift per 4 blocks' worth of vector.
#include "internal.h"
#include <math.h>

#define W_ROW(i) ((const uint8_t *)w + (size_t)(i) * w_stride)
#define W_BLOCK(i, b) ((const ctram_block_q4_1 *)W_ROW(i) + (b))  // GGUF blocks of a short last group

void ctram_pack_q4_1x16(const void *src, void *dst, int rows, int nblocks) {
    const size_t row_bytes = (size_t)nblocks * sizeof(ctram_block_q4_1);
    for (int r = 0; r < rows; r++) {
        const ctram_block_q4_1 *in = (const ctram_block_q4_1 *)((const char *)src + (size_t)r * row_bytes);
        uint8_t *out = (uint8_t *)dst + (size_t)r * row_bytes;
        for (int g = 0; 16 * g < nblocks; g++) {
            const int t = ctram_x16_group_size(nblocks, g);
            uint8_t *grp = out + 320 * (size_t)g;
            if (ctram_x16_short_tail(t)) {
                memcpy(grp, &in[16 * g], (size_t)t * sizeof(ctram_block_q4_1));
                continue;
            }
            for (int l = 0; l < t; l++) {
                const ctram_block_q4_1 *b = &in[16 * g + l];
                for (int kk = 0; kk < 4; kk++) memcpy(grp + 4 * t * kk + 4 * l, b->qs + 4 * kk, 4);
                memcpy(grp + 16 * t + 2 * l, &b->d, 2);
                memcpy(grp + 18 * t + 2 * l, &b->m, 2);
            }
        }
    }
}

void ctram_unpack_q4_1x16_row(const void *src, void *dst, int nblocks) {
    const uint8_t *in = (const uint8_t *)src;
    ctram_block_q4_1 *out = (ctram_block_q4_1 *)dst;
    for (int g = 0; 16 * g < nblocks; g++) {
        const int t = ctram_x16_group_size(nblocks, g);
        const uint8_t *grp = in + 320 * (size_t)g;
        if (ctram_x16_short_tail(t)) {
            memcpy(&out[16 * g], grp, (size_t)t * sizeof(ctram_block_q4_1));
            continue;
        }
        for (int l = 0; l < t; l++) {
            ctram_block_q4_1 *b = &out[16 * g + l];
            for (int kk = 0; kk < 4; kk++) memcpy(b->qs + 4 * kk, grp + 4 * t * kk + 4 * l, 4);
            memcpy(&b->d, grp + 16 * t + 2 * l, 2);
            memcpy(&b->m, grp + 18 * t + 2 * l, 2);
        }
    }
}

// Scalar twin of the VNNI tile, operation for operation: the same lane sums, the same float
// roundings (explicit fmaf; products in their own statements), the same 16-lane reduction tree.
// So the two agree bitwise, which the tests check.
CTRAM_INLINE void tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    for (int i = 0; i < NW; i++) {
        for (int j = 0; j < NA; j++) {
            float acc[16] = {0};
            for (int g = 0; 16 * g < nblocks; g++) {
                const int t = ctram_x16_group_size(nblocks, g);
                const uint8_t *grp = W_ROW(i) + 320 * (size_t)g;
                const int8_t *ax = A[j].qx + 512 * (size_t)g;
                if (ctram_x16_short_tail(t)) {
                    // q4_1.c's VNNI step: blocks in pairs, lane l covers elements 4(l%8)…+3 of
                    // block pair + l/8, the min term spread as s/8 over a block's 8 lanes.
                    for (int p = 0; p < t; p += 2)
                        for (int l = 0; l < 16 && p + l / 8 < t; l++) {
                            const int b = 16 * g + p + l / 8, e = 4 * (l % 8);
                            const ctram_block_q4_1 *wb = (const ctram_block_q4_1 *)grp + p + l / 8;
                            int32_t dot = 0;
                            for (int r = 0; r < 4; r++) {
                                const int k = e + r;
                                const int q = k < 16 ? (wb->qs[k] & 0xF) : (wb->qs[k - 16] >> 4);
                                dot += q * A[j].qs[32 * b + k];
                            }
                            const float scale = ctram_load_f16(&wb->d) * A[j].dv[8 * b + l % 8];
                            acc[l] = fmaf(scale, (float)dot, acc[l]);
                            acc[l] = fmaf(ctram_load_f16(&wb->m), A[j].sv[8 * b + l % 8], acc[l]);
                        }
                    continue;
                }
                for (int l = 0; l < t; l++) {
                    int32_t dot = 0;
                    for (int kk = 0; kk < 4; kk++)
                        for (int r = 0; r < 4; r++) {
                            const uint8_t q = grp[4 * t * kk + 4 * l + r];
                            dot += (q & 0xF) * ax[64 * kk + 4 * l + r] + (q >> 4) * ax[64 * (kk + 4) + 4 * l + r];
                        }
                    const float dw = ctram_load_f16(grp + 16 * t + 2 * l), mw = ctram_load_f16(grp + 18 * t + 2 * l);
                    const float scale = dw * A[j].d[16 * g + l];
                    acc[l] = fmaf(scale, (float)dot, acc[l]);
                    acc[l] = fmaf(mw, A[j].s[16 * g + l], acc[l]);
                }
            }
            y[(size_t)j * y_stride + i] = ctram_hsum16_ref(acc);
        }
    }
}

void ctram_tile_q4_1x16_scalar(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_scalar(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

#if CTRAM_X86
// One group of t ≤ 16 blocks. TAIL: a short last group, whose loads are masked to its t lanes
// (activation lanes past t are zero by construction, but scales past t are not ours to read).
#define Q4_1X16_GROUP(TAIL)                                                                        \
    {                                                                                              \
        const int t = (TAIL) ? nblocks - 16 * g : 16;                                              \
        CTRAM_PREFETCH_BLOCKS(16 * g, 16 * g + t, sizeof(ctram_block_q4_1));                       \
        const __mmask64 bytes = (TAIL) ? (((__mmask64)1 << (4 * t)) - 1) : ~(__mmask64)0;          \
        const __mmask16 lanes = (TAIL) ? (__mmask16)((1u << t) - 1) : (__mmask16)0xFFFF;           \
        __m512i dot[4][4];                                                                         \
        for (int i = 0; i < NW; i++)                                                               \
            for (int j = 0; j < NA; j++) dot[i][j] = _mm512_setzero_si512();                       \
        for (int kk = 0; kk < 4; kk++) {                                                           \
            __m512i lo[4], hi[4];                                                                  \
            for (int i = 0; i < NW; i++) {                                                         \
                const uint8_t *p = W_ROW(i) + 320 * (size_t)g + 4 * t * kk;                        \
                const __m512i v = (TAIL) ? _mm512_maskz_loadu_epi8(bytes, p) : _mm512_loadu_si512(p); \
                lo[i] = _mm512_and_si512(v, nibble);                                               \
                hi[i] = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);                         \
            }                                                                                      \
            for (int j = 0; j < NA; j++) {                                                         \
                const __m512i a0 = _mm512_load_si512(A[j].qx + 512 * (size_t)g + 64 * kk);         \
                const __m512i a1 = _mm512_load_si512(A[j].qx + 512 * (size_t)g + 64 * (kk + 4));   \
                for (int i = 0; i < NW; i++) {                                                     \
                    dot[i][j] = _mm512_dpbusd_epi32(dot[i][j], lo[i], a0);                         \
                    dot[i][j] = _mm512_dpbusd_epi32(dot[i][j], hi[i], a1);                         \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        __m512 dw[4], mw[4];                                                                       \
        for (int i = 0; i < NW; i++) {                                                             \
            const uint8_t *p = W_ROW(i) + 320 * (size_t)g + 16 * t;                                \
            dw[i] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lanes, p));                           \
            mw[i] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lanes, p + 2 * t));                   \
        }                                                                                          \
        for (int j = 0; j < NA; j++) {                                                             \
            const __m512 da = _mm512_maskz_loadu_ps(lanes, A[j].d + 16 * g);                       \
            const __m512 sa = _mm512_maskz_loadu_ps(lanes, A[j].s + 16 * g);                       \
            for (int i = 0; i < NW; i++) {                                                         \
                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], da), _mm512_cvtepi32_ps(dot[i][j]), acc[i][j]); \
                acc[i][j] = _mm512_fmadd_ps(mw[i], sa, acc[i][j]);                                 \
            }                                                                                      \
        }                                                                                          \
    }

CTRAM_VNNI CTRAM_INLINE void tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m512 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm512_setzero_ps();
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    int g = 0;
    for (; 16 * g + 16 <= nblocks; g++) Q4_1X16_GROUP(0)
    if (16 * g < nblocks && !ctram_x16_short_tail(nblocks - 16 * g)) Q4_1X16_GROUP(1)
    else if (16 * g < nblocks) {
        // Short tail, GGUF blocks in place: the plain tile's two-blocks-per-step loop.
        int b = 16 * g;
        for (; b + 2 <= nblocks; b += 2) CTRAM_Q4_1_VNNI_PAIR(0)
        if (b < nblocks) CTRAM_Q4_1_VNNI_PAIR(1)
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum512(acc[i][j]);
}

CTRAM_VNNI void ctram_tile_q4_1x16_vnni(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_vnni(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

// AVX2 on the x16 layout, half a group (8 lanes) at a time; see internal.h.
CTRAM_AVX2 CTRAM_INLINE void tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m256 acc[4][4][2];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j][0] = acc[i][j][1] = _mm256_setzero_ps();
    const __m256i nibble = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    for (int g = 0; 16 * g < nblocks; g++) {
        const int t = ctram_x16_group_size(nblocks, g);
        CTRAM_PREFETCH_BLOCKS(16 * g, 16 * g + t, sizeof(ctram_block_q4_1));
        if (ctram_x16_short_tail(t)) {
            // GGUF blocks in place, one per half as CTRAM_Q4_1_VNNI_PAIR pairs them
            for (int b = 16 * g; b < nblocks; b++) {
                const int h = b & 1;
                for (int i = 0; i < NW; i++) {
                    const ctram_block_q4_1 *wb = W_BLOCK(i, b);
                    const __m256i wq = ctram_unpack_nibbles(wb->qs);
                    const __m256 dw = _mm256_set1_ps(ctram_load_f16(&wb->d)), mw = _mm256_set1_ps(ctram_load_f16(&wb->m));
                    for (int j = 0; j < NA; j++) {
                        const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(wq, _mm256_loadu_si256((const __m256i *)(A[j].qs + 32 * b))), ones);
                        __m256 u = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(A[j].dv + 8 * b)), _mm256_cvtepi32_ps(dot), acc[i][j][h]);
                        acc[i][j][h] = _mm256_fmadd_ps(mw, _mm256_loadu_ps(A[j].sv + 8 * b), u);
                    }
                }
            }
            break;
        }
        for (int h = 0; 8 * h < t; h++) {
            const int n = t - 8 * h < 8 ? t - 8 * h : 8;  // lanes of this half
            // The 8 maddubs of a lane sum in i16 (each i16 ≤ 2·15·127, eight of them ≤ 30480 <
            // 2¹⁵: exact), then one madd widens them: the same int32 lanes as a madd per step.
            __m256i dot[4][4], s16[4][4];
            for (int i = 0; i < NW; i++)
                for (int j = 0; j < NA; j++) s16[i][j] = _mm256_setzero_si256();
            for (int kk = 0; kk < 4; kk++) {
                __m256i lo[4], hi[4];
                for (int i = 0; i < NW; i++) {
                    const __m256i v = ctram_load_words(W_ROW(i) + 320 * (size_t)g + 4 * t * kk + 32 * h, n);
                    lo[i] = _mm256_and_si256(v, nibble);
                    hi[i] = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
                }
                for (int j = 0; j < NA; j++) {
                    const __m256i a0 = _mm256_load_si256((const __m256i *)(A[j].qx + 512 * (size_t)g + 64 * kk + 32 * h));
                    const __m256i a1 = _mm256_load_si256((const __m256i *)(A[j].qx + 512 * (size_t)g + 64 * (kk + 4) + 32 * h));
                    for (int i = 0; i < NW; i++)
                        s16[i][j] = _mm256_add_epi16(s16[i][j], _mm256_add_epi16(_mm256_maddubs_epi16(lo[i], a0), _mm256_maddubs_epi16(hi[i], a1)));
                }
            }
            for (int i = 0; i < NW; i++)
                for (int j = 0; j < NA; j++) dot[i][j] = _mm256_madd_epi16(s16[i][j], ones);
            for (int i = 0; i < NW; i++) {
                const uint8_t *p = W_ROW(i) + 320 * (size_t)g + 16 * t + 16 * h;
                const __m256 dw = ctram_load_f16x8(p, n), mw = ctram_load_f16x8(p + 2 * t, n);
                for (int j = 0; j < NA; j++) {
                    const __m256 da = ctram_load_floats(A[j].d + 16 * g + 8 * h, n), sa = ctram_load_floats(A[j].s + 16 * g + 8 * h, n);
                    const __m256 u = _mm256_fmadd_ps(_mm256_mul_ps(dw, da), _mm256_cvtepi32_ps(dot[i][j]), acc[i][j][h]);
                    acc[i][j][h] = _mm256_fmadd_ps(mw, sa, u);
                }
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(_mm256_add_ps(acc[i][j][0], acc[i][j][1]));
}

CTRAM_AVX2 void ctram_tile_q4_1x16_avx2(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_avx2(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}
#endif
