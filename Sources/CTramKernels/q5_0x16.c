// Q5_0 weights repacked 16 blocks at a time ("x16") for the AVX-512 VNNI tile, · Q8 activations
// in the interleaved layout (ctram_q8a_row.qx). See CTramKernels.h for the layout.
//
// The arithmetic is lanes32.h's (lane l takes block 16g + l: an exact integer dot product,
// then one fma with dw·da), so a packed matrix gives bitwise the results of the GGUF-layout
// tiles of every ISA. What changes is the cost: in GGUF layout each block's 8 partial sums must
// be reduced to its lane (hadds, port 5) and its scale gathered; interleaved, a 64-byte dpbusd
// already accumulates 4 elements of each of 16 blocks in their own lanes, and the fifth bits
// are bit-sliced: one 64-byte vector per group holds, in bit k of each byte, the bit that byte
// of step k's vector needs — a test gives VNNI the step's mask, a shift and an AND give AVX2
// its 0x10 bytes.
#include "lanes32.h"

#define Q5X16_GROUP 352  // bytes of 16 blocks, as in GGUF
#define E(k) ((k) < 4 ? 4 * (k) : 16 + 4 * ((k) - 4))  // first element of vector k in each block

void ctram_pack_q5_0x16(const void *src, void *dst, int rows, int nblocks) {
    const size_t row_bytes = (size_t)nblocks * sizeof(ctram_block_q5_0);
    const int groups = nblocks / 16;
    for (int r = 0; r < rows; r++) {
        const ctram_block_q5_0 *in = (const ctram_block_q5_0 *)((const char *)src + (size_t)r * row_bytes);
        uint8_t *out = (uint8_t *)dst + (size_t)r * row_bytes;
        for (int g = 0; g < groups; g++) {
            uint8_t *grp = out + (size_t)Q5X16_GROUP * g;
            uint8_t sliced[64] = {0};
            for (int l = 0; l < 16; l++) {
                const ctram_block_q5_0 *b = &in[16 * g + l];
                for (int kk = 0; kk < 4; kk++) memcpy(grp + 64 * kk + 4 * l, b->qs + 4 * kk, 4);
                const uint32_t qh = load_qh(b->qh);
                for (int k = 0; k < 8; k++)
                    for (int c = 0; c < 4; c++) sliced[4 * l + c] |= (uint8_t)(((qh >> (E(k) + c)) & 1) << k);
                memcpy(grp + 320 + 2 * l, &b->d, 2);
            }
            memcpy(grp + 256, sliced, 64);
        }
        memcpy(out + (size_t)Q5X16_GROUP * groups, &in[16 * groups], (size_t)(nblocks - 16 * groups) * sizeof(ctram_block_q5_0));
    }
}

/// Block b of a packed row, back in GGUF form.
CTRAM_INLINE ctram_block_q5_0 q5_0x16_block(const void *row, int b, int nblocks) {
    ctram_block_q5_0 out;
    if (b >= 16 * (nblocks / 16)) {
        memcpy(&out, (const ctram_block_q5_0 *)row + b, sizeof out);
        return out;
    }
    const uint8_t *grp = (const uint8_t *)row + (size_t)Q5X16_GROUP * (b / 16);
    const int l = b % 16;
    uint32_t qh = 0;
    for (int kk = 0; kk < 4; kk++) memcpy(out.qs + 4 * kk, grp + 64 * kk + 4 * l, 4);
    for (int k = 0; k < 8; k++)
        for (int c = 0; c < 4; c++) qh |= (uint32_t)((grp[256 + 4 * l + c] >> k) & 1) << (E(k) + c);
    memcpy(out.qh, &qh, 4);
    memcpy(&out.d, grp + 320 + 2 * l, 2);
    return out;
}

void ctram_unpack_q5_0x16_row(const void *src, void *dst, int nblocks) {
    for (int b = 0; b < nblocks; b++) ((ctram_block_q5_0 *)dst)[b] = q5_0x16_block(src, b, nblocks);
}

// Scalar twin: lanes32.h's scalar tile over the blocks restored one at a time.
CTRAM_INLINE void q5_0x16_decode_block(const void *row, int b, int nblocks, int q[32], float *d, float *m) {
    const ctram_block_q5_0 block = q5_0x16_block(row, b, nblocks);
    q5_0_decode(&block, 0, q, d, m);
}
#define q5_0x16_decode(row, b, q, d, m) q5_0x16_decode_block(row, b, nblocks, q, d, m)
#define q5_0x16_SCALAR_TILE(NW, NA) q5_0x16_tile_scalar(NW, NA, CTRAM_TILE_PASS)
SCALAR_TILE(q5_0x16, 0)

#if CTRAM_X86
LANES_STEPS(q5_0_tail, CTRAM_VNNI, ctram_block_q5_0, Q5_0_UNPACK, Q5_0_SCALE, NO_MIN, DOT_U8_VNNI, -16, 0, )

CTRAM_VNNI CTRAM_INLINE void q5_0x16_tile(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m512 acc[4][4];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j] = _mm512_setzero_ps();
    const __m512i nibble = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16);
    const int groups = nblocks / 16;
    for (int g = 0; g < groups; g++) {
        CTRAM_PREFETCH_BLOCKS(16 * g, 16 * g + 16, sizeof(ctram_block_q5_0));
        __m512i S[4][4];
        __m512 da[4];
        for (int j = 0; j < NA; j++) {
            // −16·Σa per block starts each lane (Q5_0's offset, exact in integers)
            const __m512i corr = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(_mm512_loadu_si512(A[j].sum + 16 * g), 4));
            da[j] = _mm512_loadu_ps(A[j].d + 16 * g);
            for (int i = 0; i < NW; i++) S[i][j] = corr;
        }
        for (int k = 0; k < 8; k++) {
            __m512i wq[4];
            for (int i = 0; i < NW; i++) {
                const uint8_t *grp = (const uint8_t *)W_ROW(i) + (size_t)Q5X16_GROUP * g;
                const __m512i chunk = _mm512_loadu_si512(grp + 64 * (k & 3));
                const __m512i q = _mm512_and_si512(k < 4 ? chunk : _mm512_srli_epi16(chunk, 4), nibble);
                const __mmask64 bits = _mm512_test_epi8_mask(_mm512_loadu_si512(grp + 256), _mm512_set1_epi8((char)(1 << k)));
                wq[i] = _mm512_mask_add_epi8(q, bits, q, sixteen);
            }
            for (int j = 0; j < NA; j++) {
                const __m512i aq = _mm512_loadu_si512(A[j].qx + 512 * (size_t)g + 64 * k);
                for (int i = 0; i < NW; i++) S[i][j] = _mm512_dpbusd_epi32(S[i][j], wq[i], aq);
            }
        }
        for (int i = 0; i < NW; i++) {
            const uint8_t *grp = (const uint8_t *)W_ROW(i) + (size_t)Q5X16_GROUP * g;
            const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(grp + 320)));
            for (int j = 0; j < NA; j++) acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw, da[j]), _mm512_cvtepi32_ps(S[i][j]), acc[i][j]);
        }
    }
    if (16 * groups < nblocks) {  // the last blocks stay in GGUF layout: lanes32.h's steps
        __m256 half[4][4][2];
        for (int i = 0; i < NW; i++)
            for (int j = 0; j < NA; j++) {
                half[i][j][0] = _mm512_castps512_ps256(acc[i][j]);
                half[i][j][1] = _mm512_extractf32x8_ps(acc[i][j], 1);
            }
        q5_0_tail_steps(NW, NA, A, w, w_stride, 16 * groups, nblocks, half);
        for (int i = 0; i < NW; i++)
            for (int j = 0; j < NA; j++) acc[i][j] = _mm512_insertf32x8(_mm512_castps256_ps512(half[i][j][0]), half[i][j][1], 1);
    }
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum512(acc[i][j]);
}

CTRAM_VNNI void ctram_tile_q5_0x16_vnni(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) q5_0x16_tile(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}

LANES_STEPS(q5_0_tail_avx2, CTRAM_AVX2, ctram_block_q5_0, Q5_0_UNPACK, Q5_0_SCALE, NO_MIN, DOT_U8_AVX2, -16, 0, )

// AVX2 on the x16 layout, half a group at a time (see internal.h): the half's 32 sliced bytes
// give each step's 0x10 bytes with a shift and an AND.
CTRAM_AVX2 CTRAM_INLINE void q5_0x16_tile_avx2(const int NW, const int NA, CTRAM_TILE_ARGS) {
    CTRAM_ACTIVATION_VIEWS(NA)
    __m256 acc[4][4][2];
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) acc[i][j][0] = acc[i][j][1] = _mm256_setzero_ps();
    const __m256i nibble = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(0x10), ones = _mm256_set1_epi16(1);
    const int groups = nblocks / 16;
    for (int g = 0; g < groups; g++) {
        CTRAM_PREFETCH_BLOCKS(16 * g, 16 * g + 16, sizeof(ctram_block_q5_0));
        for (int h = 0; h < 2; h++) {
            __m256i S[4][4];
            for (int j = 0; j < NA; j++) {
                const __m256i corr = _mm256_sub_epi32(_mm256_setzero_si256(),
                                                      _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(A[j].sum + 16 * g + 8 * h)), 4));
                for (int i = 0; i < NW; i++) S[i][j] = corr;
            }
            for (int k = 0; k < 8; k++) {
                __m256i wq[4];
                for (int i = 0; i < NW; i++) {
                    const uint8_t *grp = (const uint8_t *)W_ROW(i) + (size_t)Q5X16_GROUP * g;
                    const __m256i chunk = _mm256_loadu_si256((const __m256i *)(grp + 64 * (k & 3) + 32 * h));
                    const __m256i q = _mm256_and_si256(k < 4 ? chunk : _mm256_srli_epi16(chunk, 4), nibble);
                    // bit k of each sliced byte → bit 4 (16-bit shifts; the AND drops what crosses bytes)
                    const __m256i sl = _mm256_loadu_si256((const __m256i *)(grp + 256 + 32 * h));
                    const __m256i top = k < 4 ? _mm256_slli_epi16(sl, 4 - k) : k == 4 ? sl : _mm256_srli_epi16(sl, k - 4);
                    wq[i] = _mm256_or_si256(q, _mm256_and_si256(top, sixteen));
                }
                for (int j = 0; j < NA; j++) {
                    const __m256i aq = _mm256_load_si256((const __m256i *)(A[j].qx + 512 * (size_t)g + 64 * k + 32 * h));
                    for (int i = 0; i < NW; i++) S[i][j] = _mm256_add_epi32(S[i][j], _mm256_madd_epi16(_mm256_maddubs_epi16(wq[i], aq), ones));
                }
            }
            for (int i = 0; i < NW; i++) {
                const uint8_t *grp = (const uint8_t *)W_ROW(i) + (size_t)Q5X16_GROUP * g;
                const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(grp + 320 + 16 * h)));
                for (int j = 0; j < NA; j++)
                    acc[i][j][h] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_loadu_ps(A[j].d + 16 * g + 8 * h)), _mm256_cvtepi32_ps(S[i][j]), acc[i][j][h]);
            }
        }
    }
    if (16 * groups < nblocks) q5_0_tail_avx2_steps(NW, NA, A, w, w_stride, 16 * groups, nblocks, acc);
    for (int i = 0; i < NW; i++)
        for (int j = 0; j < NA; j++) y[(size_t)j * y_stride + i] = ctram_hsum256(_mm256_add_ps(acc[i][j][0], acc[i][j][1]));
}

CTRAM_AVX2 void ctram_tile_q5_0x16_avx2(int nw, int na, CTRAM_TILE_ARGS) {
#define TILE(NW, NA) q5_0x16_tile_avx2(NW, NA, CTRAM_TILE_PASS)
    CTRAM_TILE_SWITCH(TILE)
#undef TILE
}
#endif
