// Q8_0 weights repacked 16 blocks at a time ("x16"), · Q8 activations in the interleaved layout
// (ctram_q8a_row.qx), as q4_1x16.c does for Q4_1. A 64-byte vector already held two Q8_0 blocks
// before, so the dpbusd count is the same; what x16 saves is everything around it: per 16 blocks
// one int→float conversion, one scale multiply and one FMA per (row, token) instead of eight, and
// one aligned-size load per vector instead of two loads, an insert and an xor.
// Weights are stored as u8 = q + 128 (dpbusd multiplies unsigned by signed); each block's
// Σ 128·a is taken back by starting its int32 lane at −128·Σa (the activation row's `sum`).
#include "internal.h"
#include <math.h>

#define W_ROW(i) ((const uint8_t *)w + (size_t)(i) * w_stride)
#define W_BLOCK(i, b) ((const ctram_block_q8_0 *)W_ROW(i) + (b))  // GGUF blocks of a short last group
#define GROUP_BYTES (16 * sizeof(ctram_block_q8_0))  // 544

void ctram_pack_q8_0x16(const void *src, void *dst, int rows, int nblocks) {
    const size_t row_bytes = (size_t)nblocks * sizeof(ctram_block_q8_0);
    for (int r = 0; r < rows; r++) {
        const ctram_block_q8_0 *in = (const ctram_block_q8_0 *)((const char *)src + (size_t)r * row_bytes);
        uint8_t *out = (uint8_t *)dst + (size_t)r * row_bytes;
        for (int g = 0; 16 * g < nblocks; g++) {
            const int t = ctram_x16_group_size(nblocks, g);
            uint8_t *grp = out + GROUP_BYTES * (size_t)g;
            if (ctram_x16_short_tail(t)) {
                memcpy(grp, &in[16 * g], (size_t)t * sizeof(ctram_block_q8_0));
                continue;
            }
            for (int l = 0; l < t; l++) {
                const ctram_block_q8_0 *b = &in[16 * g + l];
                for (int k = 0; k < 8; k++)
                    for (int r2 = 0; r2 < 4; r2++) grp[4 * t * k + 4 * l + r2] = (uint8_t)b->qs[4 * k + r2] ^ 0x80;
                memcpy(grp + 32 * t + 2 * l, &b->d, 2);
            }
        }
    }
}

void ctram_unpack_q8_0x16_row(const void *src, void *dst, int nblocks) {
    const uint8_t *in = (const uint8_t *)src;
    ctram_block_q8_0 *out = (ctram_block_q8_0 *)dst;
    for (int g = 0; 16 * g < nblocks; g++) {
        const int t = ctram_x16_group_size(nblocks, g);
        const uint8_t *grp = in + GROUP_BYTES * (size_t)g;
        if (ctram_x16_short_tail(t)) {
            memcpy(&out[16 * g], grp, (size_t)t * sizeof(ctram_block_q8_0));
            continue;
        }
        for (int l = 0; l < t; l++) {
            ctram_block_q8_0 *b = &out[16 * g + l];
            for (int k = 0; k < 8; k++)
                for (int r2 = 0; r2 < 4; r2++) b->qs[4 * k + r2] = (int8_t)(grp[4 * t * k + 4 * l + r2] ^ 0x80);
            memcpy(&b->d, grp + 32 * t + 2 * l, 2);
        }
    }
}

// Scalar twin of the VNNI tile: integer lane sums are exact either way, and the float steps
// (one product, one FMA per lane and step, the 16-lane reduction tree) are the same, so the two
// agree bitwise.
CTRAM_INLINE void tile_scalar(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    for (int i = 0; i < NW; i++) {
        for (int j = 0; j < NA; j++) {
            float acc[16] = {0};
            for (int g = 0; 16 * g < nblocks; g++) {
                const int t = ctram_x16_group_size(nblocks, g);
                const uint8_t *grp = W_ROW(i) + GROUP_BYTES * (size_t)g;
                if (ctram_x16_short_tail(t)) {
                    for (int p = 0; p < t; p += 2)
                        for (int l = 0; l < 16 && p + l / 8 < t; l++) {
                            const int b = 16 * g + p + l / 8, e = 4 * (l % 8);
                            const ctram_block_q8_0 *wb = (const ctram_block_q8_0 *)grp + p + l / 8;
                            int32_t dot = 0;
                            for (int r = 0; r < 4; r++) dot += wb->qs[e + r] * A[j].qs[32 * b + e + r];
                            const float scale = ctram_load_f16(&wb->d) * A[j].dv[8 * b + l % 8];
                            acc[l] = fmaf(scale, (float)dot, acc[l]);
                        }
                    continue;
                }
                const int8_t *ax = A[j].qx + 512 * (size_t)g;
                for (int l = 0; l < t; l++) {
                    int32_t dot = 0;
                    for (int k = 0; k < 8; k++)
                        for (int r = 0; r < 4; r++) dot += ((int)grp[4 * t * k + 4 * l + r] - 128) * ax[64 * k + 4 * l + r];
                    const float scale = ctram_load_f16(grp + 32 * t + 2 * l) * A[j].d[16 * g + l];
                    acc[l] = fmaf(scale, (float)dot, acc[l]);
                }
            }
            y[(size_t)j * y_stride + i] = ctram_hsum16_ref(acc);
        }
    }
}

void ctram_tile_q8_0x16_scalar(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_scalar(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

#if CTRAM_X86
#define Q8_0X16_GROUP(TAIL)                                                                        \
    {                                                                                              \
        const int t = (TAIL) ? nblocks - 16 * g : 16;                                              \
        CTRAM_PREFETCH_BLOCKS(16 * g, 16 * g + t, sizeof(ctram_block_q8_0));                       \
        const __mmask64 bytes = (TAIL) ? (((__mmask64)1 << (4 * t)) - 1) : ~(__mmask64)0;          \
        const __mmask16 lanes = (TAIL) ? (__mmask16)((1u << t) - 1) : (__mmask16)0xFFFF;           \
        __m512i dot[4][4];                                                                         \
        for (int j = 0; j < NA; j++) {                                                             \
            const __m512i c = _mm512_sub_epi32(_mm512_setzero_si512(),                             \
                                               _mm512_slli_epi32(_mm512_maskz_loadu_epi32(lanes, A[j].sum + 16 * g), 7)); \
            for (int i = 0; i < NW; i++) dot[i][j] = c;                                            \
        }                                                                                          \
        for (int k = 0; k < 8; k++) {                                                              \
            __m512i wq[4];                                                                         \
            for (int i = 0; i < NW; i++) {                                                         \
                const uint8_t *p = W_ROW(i) + GROUP_BYTES * (size_t)g + 4 * t * k;                 \
                wq[i] = (TAIL) ? _mm512_maskz_loadu_epi8(bytes, p) : _mm512_loadu_si512(p);        \
            }                                                                                      \
            for (int j = 0; j < NA; j++) {                                                         \
                const __m512i a = _mm512_load_si512(A[j].qx + 512 * (size_t)g + 64 * k);           \
                for (int i = 0; i < NW; i++) dot[i][j] = _mm512_dpbusd_epi32(dot[i][j], wq[i], a); \
            }                                                                                      \
        }                                                                                          \
        __m512 dw[4];                                                                              \
        for (int i = 0; i < NW; i++)                                                               \
            dw[i] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lanes, W_ROW(i) + GROUP_BYTES * (size_t)g + 32 * t)); \
        for (int j = 0; j < NA; j++) {                                                             \
            const __m512 da = _mm512_maskz_loadu_ps(lanes, A[j].d + 16 * g);                       \
            for (int i = 0; i < NW; i++)                                                           \
                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], da), _mm512_cvtepi32_ps(dot[i][j]), acc[i][j]); \
        }                                                                                          \
    }

CTRAM_VNNI CTRAM_INLINE void tile_vnni(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m512 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm512_setzero_ps();
    int g = 0;
    for (; 16 * g + 16 <= nblocks; g++) Q8_0X16_GROUP(0)
    if (16 * g < nblocks && !ctram_x16_short_tail(nblocks - 16 * g)) Q8_0X16_GROUP(1)
    else if (16 * g < nblocks) {
        // Short tail, GGUF blocks in place: the plain tile's two-blocks-per-step loop.
        const __m512i flip = _mm512_set1_epi8((char)0x80);
        int b = 16 * g;
        for (; b + 2 <= nblocks; b += 2) CTRAM_Q8_0_VNNI_PAIR(0)
        if (b < nblocks) CTRAM_Q8_0_VNNI_PAIR(1)
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum512(acc[i][j]);
}

CTRAM_VNNI void ctram_tile_q8_0x16_vnni(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_vnni(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

// AVX2 on the x16 layout, half a group at a time (see internal.h). maddubs wants unsigned × signed
// and q + 128 times a would saturate its i16 pairs, so the weights go back to signed (xor 0x80)
// and multiply as |q| × a·sign(q); the lane sums are then Σ q·a directly, which is what dpbusd
// reaches from its −128·Σa start.
CTRAM_AVX2 CTRAM_INLINE void tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m256 acc[4][4][2];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j][0] = acc[i][j][1] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1), flip = _mm256_set1_epi8((char)0x80);
    for (int g = 0; 16 * g < nblocks; g++) {
        const int t = ctram_x16_group_size(nblocks, g);
        CTRAM_PREFETCH_BLOCKS(16 * g, 16 * g + t, sizeof(ctram_block_q8_0));
        if (ctram_x16_short_tail(t)) {
            for (int b = 16 * g; b < nblocks; b++) {  // GGUF blocks, one per half as the VNNI pairs
                const int h = b & 1;
                for (int i = 0; i < NW; i++) {
                    const ctram_block_q8_0 *wb = W_BLOCK(i, b);
                    const __m256i q = _mm256_loadu_si256((const __m256i *)wb->qs), aw = _mm256_sign_epi8(q, q);
                    const __m256 dw = _mm256_set1_ps(ctram_load_f16(&wb->d));
                    for (int j = 0; j < NA; j++) {
                        const __m256i a = _mm256_loadu_si256((const __m256i *)(A[j].qs + 32 * b));
                        const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(a, q)), ones);
                        acc[i][j][h] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(A[j].dv + 8 * b)), _mm256_cvtepi32_ps(dot), acc[i][j][h]);
                    }
                }
            }
            break;
        }
        for (int h = 0; 8 * h < t; h++) {
            const int n = t - 8 * h < 8 ? t - 8 * h : 8;
            __m256i dot[4][4];
            for (int i = 0; i < NW; i++)
                for (int j = 0; j < NA; j++) dot[i][j] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                __m256i q[4], aw[4];
                for (int i = 0; i < NW; i++) {
                    q[i] = _mm256_xor_si256(ctram_load_words(W_ROW(i) + GROUP_BYTES * (size_t)g + 4 * t * k + 32 * h, n), flip);
                    aw[i] = _mm256_sign_epi8(q[i], q[i]);
                }
                for (int j = 0; j < NA; j++) {
                    const __m256i a = _mm256_load_si256((const __m256i *)(A[j].qx + 512 * (size_t)g + 64 * k + 32 * h));
                    for (int i = 0; i < NW; i++)
                        dot[i][j] = _mm256_add_epi32(dot[i][j], _mm256_madd_epi16(_mm256_maddubs_epi16(aw[i], _mm256_sign_epi8(a, q[i])), ones));
                }
            }
            for (int i = 0; i < NW; i++) {
                const __m256 dw = ctram_load_f16x8(W_ROW(i) + GROUP_BYTES * (size_t)g + 32 * t + 16 * h, n);
                for (int j = 0; j < NA; j++) {
                    const __m256 da = ctram_load_floats(A[j].d + 16 * g + 8 * h, n);
                    acc[i][j][h] = _mm256_fmadd_ps(_mm256_mul_ps(dw, da), _mm256_cvtepi32_ps(dot[i][j]), acc[i][j][h]);
                }
            }
        }
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(_mm256_add_ps(acc[i][j][0], acc[i][j][1]));
}

CTRAM_AVX2 void ctram_tile_q8_0x16_avx2(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) tile_avx2(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}
#endif
