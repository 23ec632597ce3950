// Q2_K, Q3_K and Q5_K weights · Q8_K activations: portable C, AVX2 and AVX-512 VNNI, built as
// the Q4_K/Q6_K tiles are (kquants.h): exact integer sums per super-block, then the scalar float
// update per pair lane, so every variant equals the scalar one bit for bit.
//
//   Q2_K { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin }     x = d·(sc & 15)·q − dmin·(sc >> 4)
//   Q3_K { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d }  x = d·(sc − 32)·(q − (hbit ? 0 : 4))
//   Q5_K { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] }  Q4_K plus a fifth bit
// Q2_K/Q3_K, element e = 128n + 32j + l (l < 32): 2 bits (qs[32n + l] >> 2j) & 3, scale of
// group e/16; Q3_K's high bit is bit 4n + j of hmask[l]. Q5_K, element 64g + l (+ 32): the low
// (high) nibble of qs[32g + l] and bit 2g (2g + 1) of qh[l].
#include "kquants.h"

CTRAM_INLINE float q2_K_block(const ctram_block_q2_K *wb, const ctram_block_q8k *ab) {
    int32_t sumi = 0, mins = 0;
    for (int n = 0; n < 2; n++)
        for (int j = 0; j < 4; j++)
            for (int half = 0; half < 2; half++) {
                const int g = 8 * n + 2 * j + half;
                const uint8_t *q = wb->qs + 32 * n + 16 * half;
                const int8_t *a = ab->qs + 16 * g;
                int32_t p = 0;
                for (int l = 0; l < 16; l++) p += ((q[l] >> (2 * j)) & 3) * a[l];
                sumi += (wb->scales[g] & 0xF) * p;
            }
    for (int g = 0; g < 16; g++) mins += (wb->scales[g] >> 4) * ab->bsums[g];
    const float d = ctram_load_f16(&wb->d) * ab->d, dmin = ctram_load_f16(&wb->dmin) * ab->d;
    return fmaf(d, (float)sumi, -(dmin * (float)mins));
}

/// Q3_K's 16 six-bit scales, minus 32. Scale t = 4·grp + k: low 4 bits from the low (grp 0, 1)
/// or high (grp 2, 3) nibble of byte k (grp even) or 4 + k (odd), top 2 bits from byte 8 + k
/// shifted right by 2·grp.
CTRAM_INLINE void q3_K_scales(const uint8_t s[12], int8_t out[16]) {
    for (int t = 0; t < 16; t++) {
        const int grp = t / 4, k = t % 4;
        const uint8_t byte = s[(grp & 1) ? 4 + k : k];
        const int low = grp < 2 ? (byte & 0xF) : (byte >> 4);
        out[t] = (int8_t)((low | (((s[8 + k] >> (2 * grp)) & 3) << 4)) - 32);
    }
}

CTRAM_INLINE float q3_K_block(const ctram_block_q3_K *wb, const ctram_block_q8k *ab, float acc) {
    int8_t sc[16];
    q3_K_scales(wb->scales, sc);
    int32_t sumi = 0;
    for (int n = 0; n < 2; n++)
        for (int j = 0; j < 4; j++)
            for (int half = 0; half < 2; half++) {
                const int g = 8 * n + 2 * j + half;
                const uint8_t *q = wb->qs + 32 * n + 16 * half, *hm = wb->hmask + 16 * half;
                const int8_t *a = ab->qs + 16 * g;
                int32_t p = 0;
                for (int l = 0; l < 16; l++) p += (((q[l] >> (2 * j)) & 3) - (((hm[l] >> (4 * n + j)) & 1) ? 0 : 4)) * a[l];
                sumi += sc[g] * p;
            }
    return fmaf(ctram_load_f16(&wb->d) * ab->d, (float)sumi, acc);
}

CTRAM_INLINE float q5_K_block(const ctram_block_q5_K *wb, const ctram_block_q8k *ab) {
    int sc[8], m[8];
    for (int j = 0; j < 8; j++) ctram_scale_min_k4(j, wb->scales, &sc[j], &m[j]);
    int32_t sumi = 0, mins = 0;
    for (int g = 0; g < 4; g++) {
        const uint8_t *q = wb->qs + 32 * g;
        const int8_t *a = ab->qs + 64 * g;
        int32_t lo = 0, hi = 0;
        for (int l = 0; l < 32; l++) {
            lo += ((q[l] & 0xF) | (((wb->qh[l] >> (2 * g)) & 1) << 4)) * a[l];
            hi += ((q[l] >> 4) | (((wb->qh[l] >> (2 * g + 1)) & 1) << 4)) * a[l + 32];
        }
        sumi += sc[2 * g] * lo + sc[2 * g + 1] * hi;
    }
    for (int j = 0; j < 8; j++) mins += m[j] * (ab->bsums[2 * j] + ab->bsums[2 * j + 1]);
    const float d = ctram_load_f16(&wb->d) * ab->d, dmin = ctram_load_f16(&wb->dmin) * ab->d;
    return fmaf(d, (float)sumi, -(dmin * (float)mins));
}

#define Q2_K_UPDATE(acc, wb, ab) ((acc) += q2_K_block(wb, ab))
#define Q3_K_UPDATE(acc, wb, ab) ((acc) = q3_K_block(wb, ab, acc))
#define Q5_K_UPDATE(acc, wb, ab) ((acc) += q5_K_block(wb, ab))
#define q2_K_TILE(NW, NA) q2_K_tile(NW, NA, CTRAM_TILE_PASS)
#define q3_K_TILE(NW, NA) q3_K_tile(NW, NA, CTRAM_TILE_PASS)
#define q5_K_TILE(NW, NA) q5_K_tile(NW, NA, CTRAM_TILE_PASS)
K_TILE(q2_K, ctram_block_q2_K, Q2_K_UPDATE)
K_TILE(q3_K, ctram_block_q3_K, Q3_K_UPDATE)
K_TILE(q5_K, ctram_block_q5_K, Q5_K_UPDATE)

#if CTRAM_X86
// The SIMD tiles, written once and built twice: AVX2 accumulates each step's i16 pair sums
// with madd + add, AVX-512 VNNI with one dpwssds (exact: every sum here is far below 2³¹).
// Each step is 32 elements: maddubs(unsigned weights, activations) → 16 i16 pair sums, times
// the i16 scales of their 16-element groups (lanes 0–7 the first group, 8–15 the second).
#define MADD_ACC_AVX2(S, p, s) _mm256_add_epi32(S, _mm256_madd_epi16(p, s))
#define MADD_ACC_VNNI(S, p, s) _mm256_dpwssds_epi32(S, p, s)

/// i16 lanes 0–7 = byte g0 of the 16 bytes in each 128-bit half of `bytes`, lanes 8–15 = byte
/// g0 + 1, zero-extended (unsigned scales).
#define PICK_U8_PAIR(bytes, g0) _mm256_shuffle_epi8(bytes, _mm256_setr_m128i(_mm_set1_epi16((short)(0x8000 | (g0))), _mm_set1_epi16((short)(0x8000 | ((g0) + 1)))))
/// The same for signed bytes: both bytes of each i16 lane take the scale, then an arithmetic
/// shift sign-extends it.
#define PICK_S8_PAIR(bytes, g0) _mm256_srai_epi16(_mm256_shuffle_epi8(bytes, _mm256_setr_m128i(_mm_set1_epi8((char)(g0)), _mm_set1_epi8((char)((g0) + 1)))), 8)

#define LOW_K_TILES(SUFFIX, TARGET, MADD_ACC)                                                      \
    /* Q2_K: per half n, the 32 qs bytes give four steps (bits 2j, 2j + 1).                        \
       The mins term: madd of the 16 four-bit mins with the activation's 16 bsums. */             \
    TARGET CTRAM_INLINE void q2_K_tile_##SUFFIX(const int NW, const int NA, CTRAM_TILE_ARGS) {     \
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};                                \
        const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(3);                    \
        for (int b = 0; b < nblocks; b++) {                                                        \
            __m256i scb[4], mn[4], S[4][4], M[4][4];                                               \
            float wd[4], wm[4], ad[4];                                                             \
            CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q2_K));                             \
            for (int i = 0; i < NW; i++) {                                                         \
                const ctram_block_q2_K *wb = W_BLOCK(ctram_block_q2_K, i, b);                      \
                const __m128i raw = _mm_loadu_si128((const __m128i *)wb->scales);                  \
                scb[i] = _mm256_and_si256(_mm256_broadcastsi128_si256(raw), low4);                 \
                mn[i] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0F))); \
                wd[i] = ctram_load_f16(&wb->d);                                                    \
                wm[i] = ctram_load_f16(&wb->dmin);                                                 \
                for (int j = 0; j < NA; j++) S[i][j] = _mm256_setzero_si256();                     \
            }                                                                                      \
            for (int i = 0; i < NW; i++) {                                                         \
                const ctram_block_q2_K *wb = W_BLOCK(ctram_block_q2_K, i, b);                      \
                _Pragma("clang loop unroll(disable)")                                              \
                for (int n = 0; n < 2; n++) {                                                      \
                    __m256i cur = _mm256_loadu_si256((const __m256i *)(wb->qs + 32 * n));          \
                    for (int jj = 0; jj < 4; jj++) {                                               \
                        const __m256i q = _mm256_and_si256(cur, two);                              \
                        const __m256i s = PICK_U8_PAIR(scb[i], 8 * n + 2 * jj);                    \
                        for (int j = 0; j < NA; j++) {                                             \
                            const __m256i aq = _mm256_loadu_si256((const __m256i *)(A_BLOCK(j, b)->qs + 128 * n + 32 * jj)); \
                            S[i][j] = MADD_ACC(S[i][j], _mm256_maddubs_epi16(q, aq), s);           \
                        }                                                                          \
                        cur = _mm256_srli_epi16(cur, 2);                                           \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
            Q4_K_MINS(M)                                                                           \
            Q4_K_UPDATE_PAIRS(S, M)                                                                \
        }                                                                                          \
        k_store(NW, NA, acc, y, y_stride);                                                         \
    }                                                                                              \
    /* Q3_K: the unsigned q + 4 = q2 | hbit << 2 (0…7) feeds maddubs; the −4 offset is the exact  \
       correction −4·Σ sc·bsums, which starts each pair's sum (as Q6_K's −32 does). */            \
    TARGET CTRAM_INLINE void q3_K_tile_##SUFFIX(const int NW, const int NA, CTRAM_TILE_ARGS) {     \
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};                                \
        const __m256i two = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);                       \
        for (int b = 0; b < nblocks; b++) {                                                        \
            __m256i scb[4], corr[4], S[4][4];                                                      \
            float wd[4], ad[4];                                                                    \
            CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q3_K));                             \
            for (int i = 0; i < NW; i++) {                                                         \
                const ctram_block_q3_K *wb = W_BLOCK(ctram_block_q3_K, i, b);                      \
                int8_t sc[16];                                                                     \
                q3_K_scales(wb->scales, sc);                                                       \
                const __m128i s8 = _mm_loadu_si128((const __m128i *)sc);                           \
                scb[i] = _mm256_broadcastsi128_si256(s8);                                          \
                corr[i] = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), _mm256_cvtepi8_epi16(s8)), 2); \
                wd[i] = ctram_load_f16(&wb->d);                                                    \
            }                                                                                      \
            for (int j = 0; j < NA; j++) {                                                         \
                const ctram_block_q8k *ab = A_BLOCK(j, b);                                         \
                const __m256i bsums = _mm256_loadu_si256((const __m256i *)ab->bsums);              \
                ad[j] = ab->d;                                                                     \
                for (int i = 0; i < NW; i++) S[i][j] = _mm256_madd_epi16(corr[i], bsums);          \
            }                                                                                      \
            for (int i = 0; i < NW; i++) {                                                         \
                const ctram_block_q3_K *wb = W_BLOCK(ctram_block_q3_K, i, b);                      \
                __m256i hcur = _mm256_loadu_si256((const __m256i *)wb->hmask);                     \
                _Pragma("clang loop unroll(disable)")                                              \
                for (int n = 0; n < 2; n++) {                                                      \
                    __m256i cur = _mm256_loadu_si256((const __m256i *)(wb->qs + 32 * n));          \
                    for (int jj = 0; jj < 4; jj++) {                                               \
                        const __m256i q = _mm256_or_si256(_mm256_and_si256(cur, two),              \
                                                          _mm256_and_si256(_mm256_slli_epi16(hcur, 2), four)); \
                        const __m256i s = PICK_S8_PAIR(scb[i], 8 * n + 2 * jj);                    \
                        for (int j = 0; j < NA; j++) {                                             \
                            const __m256i aq = _mm256_loadu_si256((const __m256i *)(A_BLOCK(j, b)->qs + 128 * n + 32 * jj)); \
                            S[i][j] = MADD_ACC(S[i][j], _mm256_maddubs_epi16(q, aq), s);           \
                        }                                                                          \
                        cur = _mm256_srli_epi16(cur, 2);                                           \
                        hcur = _mm256_srli_epi16(hcur, 1);                                         \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
            for (int c = 0; 8 * c < NW * NA; c++) {                                                \
                __m256i vs[8];                                                                     \
                K_PAIR_INTS(vs, S, c, _mm256_setzero_si256())                                      \
                q6_K_update(NW, NA, c, ctram_reduce8_epi32(vs), wd, ad, acc);                      \
            }                                                                                      \
        }                                                                                          \
        k_store(NW, NA, acc, y, y_stride);                                                         \
    }                                                                                              \
    /* Q5_K: Q4_K's steps with the fifth bits of qh (shifted down 2 per sub-block pair). */      \
    TARGET CTRAM_INLINE void q5_K_tile_##SUFFIX(const int NW, const int NA, CTRAM_TILE_ARGS) {     \
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};                                \
        const __m256i nibble = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10);              \
        const __m256i pair = _mm256_set1_epi16(0x0100);                                            \
        for (int b = 0; b < nblocks; b++) {                                                        \
            __m256i sc[4], mn[4], S[4][4], M[4][4];                                                \
            float wd[4], wm[4], ad[4];                                                             \
            CTRAM_PREFETCH_BLOCKS(b, b + 1, sizeof(ctram_block_q5_K));                             \
            for (int i = 0; i < NW; i++) {                                                         \
                const ctram_block_q5_K *wb = W_BLOCK(ctram_block_q5_K, i, b);                      \
                const __m128i sm = q4_K_scales_mins(wb->scales);                                   \
                sc[i] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));                        \
                mn[i] = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));                           \
                wd[i] = ctram_load_f16(&wb->d);                                                    \
                wm[i] = ctram_load_f16(&wb->dmin);                                                 \
                for (int j = 0; j < NA; j++) S[i][j] = _mm256_setzero_si256();                     \
            }                                                                                      \
            for (int i = 0; i < NW; i++) {                                                         \
                const ctram_block_q5_K *wb = W_BLOCK(ctram_block_q5_K, i, b);                      \
                __m256i pick = pair, hcur = _mm256_loadu_si256((const __m256i *)wb->qh);           \
                _Pragma("clang loop unroll(disable)")                                              \
                for (int g = 0; g < 4; g++) {                                                      \
                    const __m256i x = _mm256_loadu_si256((const __m256i *)(wb->qs + 32 * g));      \
                    const __m256i lo = _mm256_or_si256(_mm256_and_si256(x, nibble), _mm256_and_si256(_mm256_slli_epi16(hcur, 4), bit4)); \
                    const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(x, 4), nibble), \
                                                       _mm256_and_si256(_mm256_slli_epi16(hcur, 3), bit4)); \
                    const __m256i slo = _mm256_shuffle_epi8(sc[i], pick);                          \
                    const __m256i shi = _mm256_shuffle_epi8(sc[i], _mm256_add_epi8(pick, _mm256_set1_epi8(2))); \
                    for (int j = 0; j < NA; j++) {                                                 \
                        const int8_t *aq = A_BLOCK(j, b)->qs + 64 * g;                             \
                        S[i][j] = MADD_ACC(S[i][j], _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)aq)), slo); \
                        S[i][j] = MADD_ACC(S[i][j], _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(aq + 32))), shi); \
                    }                                                                              \
                    pick = _mm256_add_epi8(pick, _mm256_set1_epi8(4));                             \
                    hcur = _mm256_srli_epi16(hcur, 2);                                             \
                }                                                                                  \
            }                                                                                      \
            Q4_K_MINS(M)                                                                           \
            Q4_K_UPDATE_PAIRS(S, M)                                                                \
        }                                                                                          \
        k_store(NW, NA, acc, y, y_stride);                                                         \
    }

LOW_K_TILES(avx2, CTRAM_AVX2, MADD_ACC_AVX2)
LOW_K_TILES(vnni, CTRAM_VNNI, MADD_ACC_VNNI)

#define q2_K_avx2_TILE(NW, NA) q2_K_tile_avx2(NW, NA, CTRAM_TILE_PASS)
#define q3_K_avx2_TILE(NW, NA) q3_K_tile_avx2(NW, NA, CTRAM_TILE_PASS)
#define q5_K_avx2_TILE(NW, NA) q5_K_tile_avx2(NW, NA, CTRAM_TILE_PASS)
#define q2_K_vnni_TILE(NW, NA) q2_K_tile_vnni(NW, NA, CTRAM_TILE_PASS)
#define q3_K_vnni_TILE(NW, NA) q3_K_tile_vnni(NW, NA, CTRAM_TILE_PASS)
#define q5_K_vnni_TILE(NW, NA) q5_K_tile_vnni(NW, NA, CTRAM_TILE_PASS)
K_ENTRY(q2_K_avx2, CTRAM_AVX2)
K_ENTRY(q3_K_avx2, CTRAM_AVX2)
K_ENTRY(q5_K_avx2, CTRAM_AVX2)
K_ENTRY(q2_K_vnni, CTRAM_VNNI)
K_ENTRY(q3_K_vnni, CTRAM_VNNI)
K_ENTRY(q5_K_vnni, CTRAM_VNNI)
#endif
